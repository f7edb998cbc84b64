import Foundation
import StellingCore

/// One WebSocket client connection of a ``WebSocketClientPool``; every method may be called from any thread.
///
/// Outgoing messages queue here and the pool's service thread writes them,
/// one frame per write. Incoming events go to a blocking inbox read with
/// ``next(timeout:)``, or, when the connection was made with `onText`, text
/// messages go to that callback on the service thread instead (open, close
/// and failure events still go to the inbox).
public final class ClientConnection: Sendable {
    /// One frame waiting to be written.
    struct OutgoingFrame: Sendable {
        /// How lws frames it: text, binary or continuation, with or without FIN.
        var kind: FrameKind
        /// The payload.
        var payload: [UInt8]
    }

    /// The opcode and FIN bit of an outgoing frame.
    enum FrameKind: Sendable, Equatable {
        case text(final: Bool)
        case binary(final: Bool)
        case continuation(final: Bool)
    }

    /// Where and how to connect; read on the service thread.
    struct Target: Sendable {
        var host: String
        var port: Int32
        var path: String
        var subprotocol: String?
        var origin: String?
        var sourceAddress: String?
        /// TLS (`wss://`), accepting any certificate.
        var secure = false
    }

    private struct State: Sendable {
        var outbox: [OutgoingFrame] = []
        var closeCode: CloseCode?
        var servicePosted = false
        var inbox: [ClientEvent] = []
        var pending: [String] = []
        var opened = false
        var finished = false
    }

    /// Identifies the connection to the service thread; never 0.
    let id: UInt64
    /// The parsed URL and handshake options, or why they are unusable.
    let target: Result<Target, ConnectError>
    /// Text messages go here on the service thread, not to the inbox, when set.
    let onText: (@Sendable (String) -> Void)?
    /// Every event goes here on the service thread, and none to the inbox, when set.
    let callbacks: ClientCallbacks?
    private let client: ClientLoop
    private let state = Guarded(State())

    init(id: UInt64, target: Result<Target, ConnectError>, onText: (@Sendable (String) -> Void)?,
         callbacks: ClientCallbacks? = nil, client: ClientLoop) {
        self.id = id
        self.target = target
        self.onText = onText
        self.callbacks = callbacks
        self.client = client
    }

    // MARK: Sending (any thread)

    /// Queues one text message; false when the connection has ended or is closing.
    @discardableResult
    public func send(_ text: String) -> Bool {
        enqueue([OutgoingFrame(kind: .text(final: true), payload: Array(text.utf8))])
    }

    /// Queues one binary or text message made of `bytes`; false when the connection has ended or is closing.
    @discardableResult
    public func send(bytes: [UInt8], binary: Bool) -> Bool {
        enqueue([OutgoingFrame(kind: binary ? .binary(final: true) : .text(final: true), payload: bytes)])
    }

    /// Queues one text message sent as one frame per part (TEXT without FIN, then CONTINUATION frames).
    ///
    /// The parts are not checked for UTF-8 on their own: a character may be
    /// split across frames, as RFC 6455 allows.
    @discardableResult
    public func sendFragmented(_ parts: [[UInt8]]) -> Bool {
        guard !parts.isEmpty else { return send("") }
        let frames = parts.enumerated().map { index, part in
            let final = index == parts.count - 1
            return OutgoingFrame(kind: index == 0 ? .text(final: final) : .continuation(final: final), payload: part)
        }
        return enqueue(frames)
    }

    /// Starts the closing handshake with `code` once the queued messages are written.
    public func close(code: CloseCode = .normal) {
        let post = state.withLock { state -> Bool in
            guard !state.finished, state.closeCode == nil else { return false }
            state.closeCode = code
            return Self.claimService(&state)
        }
        if post { client.requestService(self) }
    }

    private func enqueue(_ frames: [OutgoingFrame]) -> Bool {
        let (accepted, post) = state.withLock { state -> (Bool, Bool) in
            guard !state.finished, state.closeCode == nil else { return (false, false) }
            state.outbox.append(contentsOf: frames)
            return (true, Self.claimService(&state))
        }
        if post { client.requestService(self) }
        return accepted
    }

    /// One service request at a time per connection: the loop writes everything queued when it runs.
    private static func claimService(_ state: inout State) -> Bool {
        guard !state.servicePosted else { return false }
        state.servicePosted = true
        return true
    }

    // MARK: Receiving (any thread)

    /// The next event, waiting at most `timeout` seconds; nil when none came in time.
    public func next(timeout: Double) -> ClientEvent? {
        state.wait(until: Date(timeIntervalSinceNow: timeout)) { state in
            state.inbox.isEmpty ? nil : state.inbox.removeFirst()
        }
    }

    /// The next JSON event text from the server, one line of a server message at a time.
    ///
    /// Skips `.open`; returns nil at the timeout or when the connection has
    /// ended, leaving the `.closed` or `.failed` event in the inbox for ``next(timeout:)``.
    public func nextEvent(timeout: Double) -> String? {
        state.wait(until: Date(timeIntervalSinceNow: timeout)) { state -> String?? in
            // Each pass consumes an inbox event or returns, so this ends with the inbox.
            while true {
                if !state.pending.isEmpty { return .some(state.pending.removeFirst()) }
                guard let event = state.inbox.first else { return nil }
                switch event {
                case .text(let message):
                    state.inbox.removeFirst()
                    state.pending = Self.splitEvents(message)
                case .open, .binary:
                    state.inbox.removeFirst()
                case .closed, .failed:
                    return .some(nil)
                }
            }
        } ?? nil
    }

    /// Waits until the handshake has completed (true) or the connection ended or `timeout` passed (false).
    ///
    /// Consumes the `.open` event when it is the next one in the inbox.
    public func waitOpen(timeout: Double) -> Bool {
        state.wait(until: Date(timeIntervalSinceNow: timeout)) { state -> Bool? in
            if state.opened {
                if case .open = state.inbox.first { state.inbox.removeFirst() }
                return true
            }
            return state.finished ? false : nil
        } ?? false
    }

    // MARK: Service thread side

    /// Hands an event to the reader: the inbox, or `onText` for text in callback mode.
    func deliver(_ event: ClientEvent) {
        if let callbacks {
            switch event {
            case .text(let text):
                var text = text
                text.withUTF8 { callbacks.onMessage(UnsafeRawBufferPointer($0)) }
            case .binary(let bytes):
                bytes.withUnsafeBytes { callbacks.onMessage($0) }
            case .open, .closed, .failed:
                let report = state.update { state -> Bool in
                    guard !state.finished else { return false }
                    if case .open = event { state.opened = true }
                    if event.isTerminal {
                        state.finished = true
                        state.outbox = []
                    }
                    return true
                }
                if report { callbacks.onStatus(event) }
            }
            return
        }
        if case .text(let text) = event, let onText {
            onText(text)
            return
        }
        state.update { state in
            guard !state.finished else { return }
            if case .open = event { state.opened = true }
            if event.isTerminal {
                state.finished = true
                state.outbox = []
            }
            state.inbox.append(event)
        }
    }

    /// Whether the service thread has anything to write for this connection.
    var hasWork: Bool {
        state.withLock { !$0.outbox.isEmpty || $0.closeCode != nil }
    }

    /// Marks the pending service request as taken, so the next send posts a new one.
    func serviceTaken() {
        state.withLock { $0.servicePosted = false }
    }

    /// What the service thread writes next: one frame, or the close once the outbox is empty.
    func takeNextWrite() -> (frame: OutgoingFrame?, close: CloseCode?, more: Bool) {
        state.withLock { state in
            if !state.outbox.isEmpty {
                let frame = state.outbox.removeFirst()
                return (frame, nil, !state.outbox.isEmpty || state.closeCode != nil)
            }
            return (nil, state.closeCode, false)
        }
    }
}

/// Callbacks for a connection that is one of thousands (the load tool): no inbox, no copies.
///
/// Both run on the pool's service thread and must not block it.
public struct ClientCallbacks: Sendable {
    /// One whole message (text, or the rare binary one); the bytes are valid only during the call.
    public var onMessage: @Sendable (UnsafeRawBufferPointer) -> Void
    /// `.open`, then at most one `.closed` or `.failed`.
    public var onStatus: @Sendable (ClientEvent) -> Void

    /// Makes the pair.
    public init(onMessage: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
                onStatus: @escaping @Sendable (ClientEvent) -> Void) {
        self.onMessage = onMessage
        self.onStatus = onStatus
    }
}

/// Why a connection could not even be attempted.
struct ConnectError: Error, Sendable, Equatable {
    /// For people.
    var message: String
}

extension ClientConnection {
    /// Splits one server message into its events: PROTOCOL.md lets a message carry several, one a line.
    public static func splitEvents(_ message: String) -> [String] {
        // Split the UTF-8 bytes, not the Characters: "\r\n" is one Character in Swift.
        message.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).compactMap { line in
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
        }
    }
}
