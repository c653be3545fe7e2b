// ReadSome: Asio's async_read_some for the relay's sockets, without the read that finds nothing.
//
// Asio 1.22's epoll reactor starts every read with a speculative read(2), and only when that finds
// nothing does it queue the read for the next epoll event. The relay reads a socket right after it
// relayed the previous message, when the peer has not answered yet: that speculative read fails
// every time, two failed system calls per statement (client and server side), a third of what the
// proxy spends per transaction. The reactor already skips the speculative read for a socket whose
// last read "exhausted" it (reactor_op::done_and_exhausted), but Asio's own read operation never
// says so (only its write does). This operation does: a recv(2) that returns fewer bytes than
// asked for has emptied the socket, so the next read waits for epoll, which reports the socket
// again as soon as more bytes arrive (the reactor registers it edge-triggered, and every arrival
// is an edge). A full buffer may leave bytes behind, so the next read tries the socket first.
//
// It uses the reactor's interface (asio::detail), which a future Asio may change: the static
// assertions below stop the build then, and ReadSome can fall back to async_read_some.
#pragma once

#include <sys/socket.h>

#include <asio.hpp>
#include <cerrno>
#include <new>
#include <type_traits>
#include <utility>

namespace zerodown::proxy {

namespace read_some_detail {

static_assert(ASIO_VERSION >= 102200, "ReadSome is written against Asio 1.22's epoll reactor");
static_assert(std::is_same_v<asio::detail::reactor, asio::detail::epoll_reactor>,
              "ReadSome needs Asio's epoll reactor");

// One pending read of a non-blocking descriptor, owned by the reactor until it completes.
template <typename Handler>
class ReadOp : public asio::detail::reactor_op {
 public:
  ReadOp(int fd, asio::mutable_buffer buffer, Handler handler)
      : reactor_op(asio::error_code(), &ReadOp::Perform, &ReadOp::Complete),
        fd_(fd),
        buffer_(buffer),
        handler_(std::move(handler)) {}

 private:
  static status Perform(reactor_op* base) {
    auto* op = static_cast<ReadOp*>(base);
    for (;;) {
      // recv(2), not read(2): read passes through the file layer (vfs_read) before it reaches
      // the socket, recv goes to the socket.
      ssize_t n = ::recv(op->fd_, op->buffer_.data(), op->buffer_.size(), 0);
      if (n > 0) {
        op->bytes_transferred_ = static_cast<std::size_t>(n);
        return op->bytes_transferred_ < op->buffer_.size() ? done_and_exhausted : done;
      }
      if (n == 0) {
        op->ec_ = asio::error::eof;
        return done_and_exhausted;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      op->ec_ = asio::error_code(errno, asio::error::get_system_category());
      return done;
    }
  }

  // `owner` is null when the io_context is destroyed with the read pending: free it, call nothing.
  static void Complete(void* owner, asio::detail::operation* base, const asio::error_code&,
                       std::size_t) {
    auto* op = static_cast<ReadOp*>(base);
    Handler handler(std::move(op->handler_));
    asio::error_code ec = op->ec_;  // the reactor sets it (operation_aborted on cancel)
    std::size_t n = op->bytes_transferred_;
    Free(op);  // before the handler, which may start the next read
    if (owner != nullptr) std::move(handler)(ec, n);
  }

 public:
  // From the event loop thread's cache of recently freed blocks, as Asio allocates its own
  // operations: a read per relayed message would otherwise be a malloc and a free.
  static ReadOp* New(int fd, asio::mutable_buffer buffer, Handler handler) {
    void* memory = asio::detail::thread_info_base::allocate(
        asio::detail::thread_info_base::default_tag(),
        asio::detail::thread_context::top_of_thread_call_stack(), sizeof(ReadOp), alignof(ReadOp));
    return new (memory) ReadOp(fd, buffer, std::move(handler));
  }

 private:
  static void Free(ReadOp* op) {
    op->~ReadOp();
    asio::detail::thread_info_base::deallocate(
        asio::detail::thread_info_base::default_tag(),
        asio::detail::thread_context::top_of_thread_call_stack(), op, sizeof(ReadOp));
  }

  int fd_;
  asio::mutable_buffer buffer_;
  Handler handler_;
};

// The reactor's per-descriptor state of a socket or descriptor (its protected implementation).
template <typename Stream>
struct ImplOf : Stream {
  using Stream::impl_;
};

template <typename Stream>
asio::detail::reactor::per_descriptor_data& ReactorData(Stream& stream) {
  return (stream.*&ImplOf<Stream>::impl_).get_implementation().reactor_data_;
}

}  // namespace read_some_detail

// Like stream.async_read_some(buffer, token) for a socket in non-blocking mode (the caller sets
// it) on an io_context, completing with (error_code, bytes read); a cancel or close of the
// stream completes it with operation_aborted. One read at a time.
template <typename Stream, typename Token>
auto ReadSome(Stream& stream, asio::mutable_buffer buffer, Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code, std::size_t)>(
      [&stream, buffer](auto handler) {
        using Op = read_some_detail::ReadOp<std::decay_t<decltype(handler)>>;
        auto& context = asio::query(stream.get_executor(), asio::execution::context);
        auto& reactor = asio::use_service<asio::detail::reactor>(context);
        auto* op = Op::New(stream.native_handle(), buffer, std::move(handler));
        reactor.start_op(asio::detail::reactor::read_op, stream.native_handle(),
                         read_some_detail::ReactorData(stream), op, /*is_continuation=*/false,
                         /*allow_speculative=*/true);
      },
      token);
}

}  // namespace zerodown::proxy
