/// The keep-alive rule, applied by one periodic sweep over all connections (no timer per
/// connection: lws 4.1 inserts timers in O(n), see LIBWEBSOCKETS.md).
struct Keepalive {
    /// What the sweep does to one connection.
    enum Action: Equatable {
        case none
        case ping
        case drop
    }

    /// Quiet for this long: send a ping.
    let pingAfterMilliseconds: Int64
    /// Quiet for this long: drop the connection.
    let dropAfterMilliseconds: Int64

    init(keepaliveSeconds: Int) {
        dropAfterMilliseconds = Int64(max(1, keepaliveSeconds)) * 1000
        pingAfterMilliseconds = dropAfterMilliseconds / 2
    }

    /// How often the sweep should run: often enough to keep the deadlines within an eighth.
    var sweepIntervalMilliseconds: Int64 { min(1000, max(50, dropAfterMilliseconds / 8)) }

    /// Decides for a connection from which the last frame arrived at `lastReceived` (monotonic
    /// milliseconds) and which was `pinged` since then. One ping per quiet spell.
    func action(now: Int64, lastReceived: Int64, pinged: Bool) -> Action {
        let quiet = now - lastReceived
        if quiet >= dropAfterMilliseconds { return .drop }
        if quiet >= pingAfterMilliseconds && !pinged { return .ping }
        return .none
    }
}
