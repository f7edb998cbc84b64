import CEventLibs
import CWebSockets
import StellingCore

/// The loop a libwebsockets context runs on: lws' own poll(2) loop, or a libev or libuv loop
/// (epoll) through lws' event-library plugin.
///
/// With an event library Stelling owns the loop (an lws "foreign loop") and runs it one pass at
/// a time, exactly where it calls `lws_service` on poll(2), so the executor's jobs still run
/// between passes on the same thread (DESIGN.md, Threads). Service thread only; `finish()` after
/// `lws_context_destroy`.
final class LWSEventLibrary {
    /// Which loop.
    let kind: EventLoop
    private var handle: UnsafeMutableRawPointer?
    /// `lws_context_creation_info.foreign_loops`: one loop for the one service thread.
    private let foreignLoops: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    /// Makes the loop; nil when the event library cannot make one.
    init?(_ kind: EventLoop) {
        self.kind = kind
        switch kind {
        case .poll: handle = nil
        case .libev: handle = stelling_ev_loop_new()
        case .libuv: handle = stelling_uv_loop_new()
        }
        if kind != .poll && handle == nil { return nil }
        foreignLoops = .allocate(capacity: 1)
        foreignLoops.initialize(to: handle)
    }

    deinit {
        foreignLoops.deallocate()
    }

    /// The backend the loop waits with, for the log: "poll" or the event library's ("epoll").
    var backend: String {
        switch kind {
        case .poll: "poll"
        case .libev: handle.map { String(cString: stelling_ev_backend_name($0)) } ?? "none"
        case .libuv: "epoll"
        }
    }

    /// Asks lws for the plugin and hands it the loop.
    func configure(_ info: inout lws_context_creation_info) {
        switch kind {
        case .poll: return
        case .libev: info.options |= UInt64(LWS_SERVER_OPTION_LIBEV)
        case .libuv: info.options |= UInt64(LWS_SERVER_OPTION_LIBUV)
        }
        info.foreign_loops = foreignLoops
    }

    /// One pass: waits for I/O, a timer or `lws_cancel_service`, and handles what is ready.
    /// False when lws reports that the context cannot be served any more.
    func serviceOnce(_ context: OpaquePointer) -> Bool {
        switch kind {
        case .poll: return lws_service(context, 0) >= 0
        case .libev: stelling_ev_run_once(handle)
        case .libuv: _ = stelling_uv_run_once(handle)
        }
        return true
    }

    /// After `lws_context_destroy`: lets lws close its handles (libuv closes them on the loop),
    /// then frees the loop. False when the loop could not be closed (it is then left allocated).
    @discardableResult
    func finish() -> Bool {
        defer { handle = nil }
        guard let handle else { return true }
        switch kind {
        case .poll: return true
        case .libev:
            stelling_ev_loop_destroy(handle)
            return true
        case .libuv:
            return stelling_uv_loop_finish(handle, 1000) == 0
        }
    }
}
