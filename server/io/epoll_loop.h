// The epoll event loop: the fallback when io_uring is unavailable.
//
// Level-triggered epoll; reads go into one per-loop buffer, so idle
// connections hold no read buffer; writes are sendmsg calls made at the end of
// each batch, continued on EPOLLOUT when the socket buffer is full.
#ifndef NATSD_SERVER_IO_EPOLL_LOOP_H_
#define NATSD_SERVER_IO_EPOLL_LOOP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/io/event_loop.h"

namespace natsd::io {

absl::StatusOr<std::unique_ptr<EventLoop>> CreateEpollLoop();

}  // namespace natsd::io

#endif  // NATSD_SERVER_IO_EPOLL_LOOP_H_
