// server/cli.h: the subcommands of durable-streams-server that manage
// projects and mint tokens (`project ...`, `token ...`), beside serving.
#ifndef DURABLESTREAMS_SERVER_CLI_H_
#define DURABLESTREAMS_SERVER_CLI_H_

namespace durablestreams::cli {

// Whether argv[1] names a subcommand.
bool IsSubcommand(int argc, char** argv);

// Runs it; the process's exit status.
int RunSubcommand(int argc, char** argv);

// `stream export|adopt` (stream_cli.cc).
int RunStream(int argc, char** argv);

}  // namespace durablestreams::cli

#endif  // DURABLESTREAMS_SERVER_CLI_H_
