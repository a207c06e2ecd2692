// include/durablestreams/durablestreams.h
//
// Umbrella header: everything an embedder needs to run a StreamEngine.
#ifndef DURABLESTREAMS_DURABLESTREAMS_H_
#define DURABLESTREAMS_DURABLESTREAMS_H_

#include "durablestreams/auth.h"
#include "durablestreams/clock.h"
#include "durablestreams/commands.h"
#include "durablestreams/error_code.h"
#include "durablestreams/estuary.h"
#include "durablestreams/estuary_api.h"
#include "durablestreams/inspect.h"
#include "durablestreams/inspect_api.h"
#include "durablestreams/jwt.h"
#include "durablestreams/live_stream.h"
#include "durablestreams/memory_storage.h"
#include "durablestreams/metrics.h"
#include "durablestreams/node_ring.h"
#include "durablestreams/options.h"
#include "durablestreams/outcomes.h"
#include "durablestreams/project_auth.h"
#include "durablestreams/project_config_api.h"
#include "durablestreams/projects.h"
#include "durablestreams/request.h"
#include "durablestreams/segment_store.h"
#include "durablestreams/status.h"
#include "durablestreams/storage.h"
#include "durablestreams/stream_engine.h"
#include "durablestreams/stream_transfer.h"
#include "durablestreams/stream_watch.h"
#include "durablestreams/subscriptions.h"
#include "durablestreams/version.h"

#endif  // DURABLESTREAMS_DURABLESTREAMS_H_
