// The io_uring event loop.
//
// One ring per loop, set up with SINGLE_ISSUER|DEFER_TASKRUN where the kernel
// has them (completions are processed only when the loop thread enters the
// kernel, with no cross-thread task-work interrupts), else COOP_TASKRUN, else
// neither. Reads are multishot recvs into one provided buffer ring per loop,
// so idle connections hold no read buffer; writes are sendmsg SQEs issued at
// the end of each batch; accepts are multishot. Requires what ProbeIoUring()
// checks.
#ifndef NATSD_SERVER_IO_URING_LOOP_H_
#define NATSD_SERVER_IO_URING_LOOP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/io/event_loop.h"

namespace natsd::io {

// Creates an io_uring loop. The ring is bound to the thread that first calls
// Run(), so the loop may be created and configured on another thread.
absl::StatusOr<std::unique_ptr<EventLoop>> CreateUringLoop();

}  // namespace natsd::io

#endif  // NATSD_SERVER_IO_URING_LOOP_H_
