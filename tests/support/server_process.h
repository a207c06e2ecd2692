// tests/support/server_process.h: runs durable-streams-server as a child
// process on a free loopback port, for tests that need real HTTP and real
// process deaths (kill -9).
#ifndef DURABLESTREAMS_TESTS_SUPPORT_SERVER_PROCESS_H_
#define DURABLESTREAMS_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace dstest {

class ServerProcess {
 public:
  // Starts `binary --port 0 --data-dir data_dir extra...` and waits until it
  // prints the port it listens on.
  ServerProcess(const std::string& binary, const std::string& data_dir,
                std::vector<std::string> extra = {}) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      std::vector<std::string> args = {binary, "--port", "0", "--data-dir", data_dir};
      // DS_TEST_TRANSPORT=httplib runs the same tests on the other transport.
      if (const char* t = std::getenv("DS_TEST_TRANSPORT")) {
        args.push_back("--transport");
        args.push_back(t);
      }
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    size_t colon = line.rfind(':');
    if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
      Kill(SIGKILL);
      throw std::runtime_error("server did not start: " + line);
    }
    port_ = std::stoi(line.substr(colon + 1));
  }
  ~ServerProcess() {
    if (pid_ > 0) Kill(SIGKILL);
  }

  int port() const { return port_; }
  int pid() const { return pid_; }

  // Sends `sig` and waits for the process; returns its wait status.
  int Kill(int sig) {
    if (pid_ <= 0) return 0;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace dstest

#endif
