// lib/engine/live_readers.cc: Server-Sent Events responses (PROTOCOL.md
// §5.8), which catch up from storage at the transport's pace and then
// follow the stream, and the wake-up of live readers (long-polls and SSE)
// after a commit, which encodes the batch's new messages once for all.
#include <algorithm>

#include "engine/engine_impl.h"
#include "protocol/cursor.h"
#include "protocol/json_batch.h"
#include "protocol/offset.h"
#include "protocol/sse.h"

namespace durablestreams::engine {

namespace {

// SSE catch-up queues about this much before waiting for the transport.
constexpr size_t kSseCatchupBytes = 4 << 20;

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void AppendControlAt(int64_t now, int64_t jitter, const std::string& client_cursor, uint64_t next,
                     bool up_to_date, bool closed, std::string* ev) {
  protocol::ControlFields f;
  f.next_offset = protocol::FormatPosition(next);
  if (!closed) f.cursor = protocol::NextCursor(now, client_cursor, jitter);
  f.up_to_date = up_to_date || closed;
  f.closed = closed;
  protocol::AppendSseEvent("control", protocol::ControlJson(f), ev);
}

}  // namespace

// A data event and the control event after it go in one Push, so a
// session ended for a stalled client never holds data without its offset.
void EngineImpl::PushDataAndControl(LiveReader& r, std::string_view payload, uint64_t next,
                                    bool up_to_date, bool closed) {
  std::string ev;
  if (r.base64) {
    std::string b64;
    protocol::AppendBase64(payload, &b64);
    protocol::AppendSseEvent("data", b64, &ev);
  } else {
    protocol::AppendSseEvent("data", payload, &ev);
  }
  AppendControlAt(Now(), Jitter(), r.client_cursor, next, up_to_date, closed, &ev);
  r.session->Push(ev);
}

void EngineImpl::PushControl(LiveReader& r, uint64_t next, bool up_to_date, bool closed) {
  std::string ev;
  AppendControlAt(Now(), Jitter(), r.client_cursor, next, up_to_date, closed, &ev);
  r.session->Push(ev);
}

void EngineImpl::StartSse(const std::shared_ptr<Stream>& stream,
                          std::shared_ptr<const StreamMeta> meta, uint64_t pos,
                          const std::string& cursor, std::chrono::milliseconds duration,
                          ReadCallback done) {
  if (pos < meta->rec.tail) {
    // Once the 200 is out, a failed read can only end the response; find a
    // store that is down (a cold segment unreachable) before sending it.
    std::vector<StoredMessage> probe;
    Status s = ReadChain(meta->rec, pos, meta->rec.tail, 1, &probe);
    if (!s.ok()) {
      ReadOutcome o;
      o.error = StorageError(s, "read failed");
      return done(std::move(o));
    }
  }
  auto reader = std::make_shared<LiveReader>();
  std::weak_ptr<Stream> weak_stream = stream;
  std::weak_ptr<LiveReader> weak_reader = reader;
  reader->session = std::make_shared<SseSession>(
      [this, weak_stream, weak_reader] { ForgetReader(weak_stream.lock(), weak_reader.lock()); });
  reader->client_cursor = cursor;
  reader->base64 = !meta->text;
  reader->json = meta->json;

  ReadOutcome r;
  r.kind = ReadOutcome::Kind::kLive;
  r.base64 = reader->base64;
  r.live = reader->session;

  reader->next_pos = pos;
  reader->catchup_meta = std::move(meta);
  reader->lifetime_timer = timer_.Schedule(duration, [this, weak_stream, weak_reader] {
    auto rd = weak_reader.lock();
    if (!rd) return;
    ForgetReader(weak_stream.lock(), rd);
    rd->session->End();
  });
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    if (sessions_.size() >= 1024 && sessions_.size() % 1024 == 0) {
      sessions_.erase(
          std::remove_if(sessions_.begin(), sessions_.end(), [](auto& w) { return w.expired(); }),
          sessions_.end());
    }
    sessions_.push_back(reader->session);
  }
  ContinueSse(weak_stream, reader);
  done(std::move(r));
}

// Pushes catch-up events until about kSseCatchupBytes are queued or the
// reader reaches the tail. Stopped early, it continues when the transport
// has taken the queued bytes (so a reader far behind never has the whole
// backlog in memory). At the tail it registers for live events, or ends
// the response of a closed stream.
void EngineImpl::ContinueSse(const std::weak_ptr<Stream>& weak_stream,
                             const std::shared_ptr<LiveReader>& reader) {
  std::shared_ptr<Stream> stream = weak_stream.lock();
  if (!stream || IsStopping()) {
    reader->session->End();
    return;
  }
  std::shared_ptr<const StreamMeta> meta = reader->catchup_meta;
  uint64_t pos = reader->next_pos;
  size_t queued = 0;
  for (;;) {
    // Catch up to the snapshot's tail.
    while (pos < meta->rec.tail) {
      if (queued >= kSseCatchupBytes) {
        reader->next_pos = pos;
        reader->catchup_meta = meta;
        // The callback owns the reader: nothing else does while it catches
        // up. End() and Cancel() drop the callback, and the lifetime timer
        // always ends the session, so this never outlives sse_max_duration.
        if (reader->session->CallWhenDrained(
                [this, weak_stream, reader] { ContinueSse(weak_stream, reader); })) {
          return;
        }
        if (reader->session->ended()) return;
        queued = 0;  // the transport already took it all
      }
      std::string body;
      uint64_t next;
      Status s = ReadRange(*meta, pos, &body, &next);
      if (!s.ok()) {
        reader->session->End();
        return;
      }
      queued += body.size();
      pos = next;
      bool at_tail = pos >= meta->rec.tail;
      PushDataAndControl(*reader, body, pos, at_tail, at_tail && meta->rec.closed);
      reader->sent_control = true;
    }
    if (meta->rec.closed) {
      if (!reader->sent_control) PushControl(*reader, pos, true, true);
      reader->session->End();
      return;
    }
    // At the tail: register, unless the snapshot moved meanwhile.
    bool gone;
    {
      std::lock_guard<std::mutex> lock(stream->mu);
      gone = stream->gone || stream->meta->rec.soft_deleted;
      if (!gone && stream->meta->rec.tail == pos && !stream->meta->rec.closed) {
        if (!reader->sent_control) PushControl(*reader, pos, true, false);
        reader->next_pos = pos;
        reader->catchup_meta = nullptr;
        stream->readers.push_back(reader);
        if (options_.sse_heartbeat.count() > 0) ScheduleHeartbeat(reader);
        return;
      }
      meta = stream->meta;
    }
    if (gone) {
      reader->session->End();
      return;
    }
  }
}

void EngineImpl::ScheduleHeartbeat(const std::shared_ptr<LiveReader>& reader) {
  std::weak_ptr<LiveReader> weak = reader;
  reader->heartbeat_timer = timer_.Schedule(options_.sse_heartbeat, [this, weak] {
    auto rd = weak.lock();
    if (!rd || rd->session->ended()) return;
    int64_t idle = SteadyMillis() - rd->session->last_push_ms();
    if (idle >= options_.sse_heartbeat.count() / 2) {
      std::string hb;
      protocol::AppendSseHeartbeat(&hb);
      rd->session->Push(hb);
    }
    ScheduleHeartbeat(rd);
  });
}

void EngineImpl::ForgetReader(const std::shared_ptr<Stream>& stream,
                              const std::shared_ptr<LiveReader>& reader) {
  if (!reader) return;
  if (stream) {
    std::lock_guard<std::mutex> lock(stream->mu);
    auto& list = stream->readers;
    list.erase(std::remove(list.begin(), list.end(), reader), list.end());
  }
  timer_.Cancel(reader->lifetime_timer);
  timer_.Cancel(reader->heartbeat_timer);
}

void EngineImpl::Wake(std::vector<Wakeup>& wakeups) {
  for (Wakeup& w : wakeups) {
    if (w.staged) {
      Deliver(*w.meta, *w.staged, w.waiters, w.readers);
      continue;
    }
    // The stream is gone.
    for (auto& lp : w.waiters) {
      timer_.Cancel(lp->timer);
      if (lp->Claim()) {
        ReadOutcome o;
        o.error = MakeError(w.gone_code, "stream was deleted");
        lp->done(std::move(o));
      }
    }
    for (auto& r : w.readers) {
      timer_.Cancel(r->lifetime_timer);
      timer_.Cancel(r->heartbeat_timer);
      r->session->End();
    }
  }
}

void EngineImpl::Deliver(const StreamMeta& meta, const StagedStream& staged,
                         std::vector<std::shared_ptr<LongPollWaiter>>& waiters,
                         std::vector<std::shared_ptr<LiveReader>>& readers) {
  // Encode the new messages once for everybody.
  std::string body;
  if (!staged.appended.empty()) {
    if (meta.json) {
      std::vector<std::string_view> views;
      for (auto& list : staged.appended)
        list.ForEach([&](std::string_view m) { views.push_back(m); });
      protocol::AppendJsonArray(views, &body);
    } else {
      for (auto& list : staged.appended) body.append(list.data);
    }
  }
  uint64_t tail = meta.rec.tail;
  uint64_t from = staged.published_tail;
  for (auto& w : waiters) {
    timer_.Cancel(w->timer);
    if (!w->Claim()) continue;
    if (staged.appended.empty()) {
      w->done(UpToDateOutcome(meta, w->client_cursor));
    } else {
      std::string c = protocol::NextCursor(Now(), w->client_cursor, Jitter());
      ReadOutcome o = DataOutcome(meta, from, tail, body, &c);
      o.shareable = w->shareable;
      w->done(std::move(o));
    }
  }
  if (readers.empty()) return;
  std::string data_event;
  if (!staged.appended.empty()) {
    if (meta.text) {
      protocol::AppendSseEvent("data", body, &data_event);
    } else {
      std::string b64;
      protocol::AppendBase64(body, &b64);
      protocol::AppendSseEvent("data", b64, &data_event);
    }
  }
  // The control event depends on the reader only through the cursor it
  // sent: readers that sent the same one (most often none) share one, with
  // one time and one jitter for the whole delivery.
  int64_t now = Now(), jitter = Jitter();
  std::string control;
  const std::string* control_cursor = nullptr;
  for (auto& r : readers) {
    if (!control_cursor || *control_cursor != r->client_cursor) {
      control.clear();
      AppendControlAt(now, jitter, r->client_cursor, tail, true, meta.rec.closed, &control);
      control_cursor = &r->client_cursor;
    }
    // The shared data event and the control event, in one Push.
    r->session->Push(data_event, control);
    r->next_pos = tail;
    if (meta.rec.closed) {
      timer_.Cancel(r->lifetime_timer);
      timer_.Cancel(r->heartbeat_timer);
      r->session->End();
    }
  }
}

}  // namespace durablestreams::engine
