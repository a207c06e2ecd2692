// tests/support/server_process.h: runs durable-streams-server as a child
// process on a free loopback port, for tests that need real HTTP and real
// process deaths (kill -9).
#ifndef DURABLESTREAMS_TESTS_SUPPORT_SERVER_PROCESS_H_
#define DURABLESTREAMS_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace dstest {

// How ServerProcess waits for the server.
struct ServerStartup {
  // Wait for the line "listening on HOST:PORT". False: return at once,
  // with port() 0 (a test that kills the server while it starts).
  bool wait = true;
  // How long the server may take to say it listens before the constructor
  // kills it and throws: a server that never comes up fails the test
  // instead of stalling it.
  std::chrono::milliseconds timeout{60000};
};

class ServerProcess {
 public:
  using Startup = ServerStartup;

  // Starts `binary --port 0 --data-dir data_dir extra...` and waits until it
  // prints the port it listens on.
  ServerProcess(const std::string& binary, const std::string& data_dir,
                std::vector<std::string> extra = {}, Startup startup = {}) {
    auto started = std::chrono::steady_clock::now();
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
    if (!startup.wait) {
      close(out[0]);
      return;
    }
    std::string line;
    bool timed_out = !ReadLine(out[0], started + startup.timeout, &line);
    close(out[0]);
    startup_time_ = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    size_t colon = line.rfind(':');
    if (timed_out || line.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
      Kill(SIGKILL);
      throw std::runtime_error(timed_out ? "server did not say it listens within " +
                                               std::to_string(startup.timeout.count()) + " ms"
                                         : "server did not start: " + line);
    }
    port_ = std::stoi(line.substr(colon + 1));
  }
  ~ServerProcess() {
    if (pid_ > 0) Kill(SIGKILL);
  }

  int port() const { return port_; }
  int pid() const { return pid_; }
  // From the start of the process to its "listening" line.
  std::chrono::microseconds startup_time() const { return startup_time_; }

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
  // Reads one line from `fd` into *line until `deadline`; false if it ran out.
  static bool ReadLine(int fd, std::chrono::steady_clock::time_point deadline, std::string* line) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p = {fd, POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return false;
      // An error or EOF ends the line too: the caller sees what it got.
      char c;
      if (n < 0 || read(fd, &c, 1) != 1 || c == '\n') return true;
      *line += c;
    }
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::chrono::microseconds startup_time_{0};
};

}  // namespace dstest

#endif
