#include "protocol/producer.h"

namespace durablestreams::protocol {

ProducerCheck CheckProducer(const ProducerState* current, int64_t epoch, int64_t seq) {
  ProducerCheck c;
  if (current == nullptr) {
    if (seq != 0) {
      c.verdict = ProducerVerdict::kSeqGap;
      c.expected_seq = 0;
      return c;
    }
    c.next = {epoch, 0};
    return c;
  }
  if (epoch < current->epoch) {
    c.verdict = ProducerVerdict::kStaleEpoch;
    return c;
  }
  if (epoch > current->epoch) {
    if (seq != 0) {
      c.verdict = ProducerVerdict::kEpochSeqNotZero;
      return c;
    }
    c.next = {epoch, 0};
    return c;
  }
  if (seq <= current->last_seq) {
    c.verdict = ProducerVerdict::kDuplicate;
    return c;
  }
  if (seq == current->last_seq + 1) {
    c.next = {epoch, seq};
    return c;
  }
  c.verdict = ProducerVerdict::kSeqGap;
  c.expected_seq = current->last_seq + 1;
  return c;
}

}  // namespace durablestreams::protocol
