import StellingCore

/// One event as it reached one connection.
public struct Delivery: Equatable, Sendable {
    /// The connection the event reached.
    public var to: ConnectionID
    /// The event.
    public var event: Event

    /// An event as it reached `to`.
    public init(to: ConnectionID, event: Event) {
        self.to = to
        self.event = event
    }
}

/// A room driven like the shell drives it: effects carried out at once (every record is durable
/// immediately), broadcasts resolved to the connections admitted when they were made.
public struct Harness {
    /// The room under test.
    public var room: Room
    /// The generator the room draws ids and tokens from.
    public var random = SeededRandom()
    /// The time the room is told; moved with `advance(milliseconds:)`.
    public var clock = Instant(milliseconds: 1_610_715_600_000) // 2021-01-15T13:00:00Z
    /// Every record the room asked to persist, in order.
    public var records: [Record] = []
    /// Every connection the room closed, with the code.
    public var closed: [(ConnectionID, CloseCode)] = []
    private var nextConnection: UInt64 = 1

    /// The moderator key of `configuration()`.
    public static let key = "moderator-secret-key"

    /// A fresh room on `configuration`.
    public init(_ configuration: Configuration = Harness.configuration()) {
        room = Room(configuration: configuration)
    }

    /// A small event: three groups, `statements` statements, the moderator key `key`.
    public static func configuration(groups: [String] = ["Rijk", "Provincie", "Gemeente"], statements: Int = 3) -> Configuration {
        Configuration(
            title: "Leren samen werken aan opgaven",
            programme: [ProgrammeItem(time: "14:00", item: "Welkom")],
            groups: groups,
            statements: (1...max(1, statements)).prefix(statements).map { StatementSpec(id: "s\($0)", text: "Stelling \($0)") },
            moderatorKey: key)
    }

    /// A new connection id, not yet joined.
    public mutating func connection() -> ConnectionID {
        defer { nextConnection += 1 }
        return ConnectionID(nextConnection)
    }

    /// Moves the clock on.
    public mutating func advance(milliseconds: Int64) { clock.milliseconds += milliseconds }

    /// Sends raw JSON text from a connection and returns what was delivered to whom.
    public mutating func send(_ json: String, from connection: ConnectionID) -> [Delivery] {
        let effects = room.receive(Array(json.utf8), from: connection, now: clock, random: &random)
        return carryOut(effects)
    }

    /// Runs the room's timer once and returns what was delivered to whom.
    public mutating func tick() -> [Delivery] { carryOut(room.tick(now: clock)) }

    /// Carries out `effects` and returns what was delivered to whom.
    public mutating func carryOut(_ effects: [Effect]) -> [Delivery] {
        var deliveries: [Delivery] = []
        for effect in effects {
            switch effect {
            case let .send(connection, event):
                deliveries.append(Delivery(to: connection, event: event))
            case let .broadcast(event, audience):
                for connection in room.recipients(of: audience, admittedUpTo: room.admissions).sorted() {
                    deliveries.append(Delivery(to: connection, event: event))
                }
            case let .persist(record, then):
                records.append(record)
                deliveries += carryOut(then)
            case let .close(connection, code):
                closed.append((connection, code))
                room.disconnect(connection)
            }
        }
        return deliveries
    }

    /// Sets the clock to `seconds` after the start (2021-01-15T13:00:00Z).
    public mutating func at(_ seconds: Double) {
        clock = Instant(milliseconds: 1_610_715_600_000 + Int64(seconds * 1000))
    }

    /// Handles a request given as a value (as `Request.decode` makes it) from a connection and
    /// returns what was delivered to whom.
    @discardableResult
    public mutating func send(_ body: Request.Body, from connection: ConnectionID, ref: String? = "r") -> [Delivery] {
        carryOut(room.handle(Request(body, ref: ref), from: connection, now: clock, random: &random))
    }

    /// Sends a request that the room must acknowledge; stops with what came instead.
    public mutating func expectAck(_ body: Request.Body, from connection: ConnectionID) {
        let events = send(body, from: connection).to(connection)
        guard events.contains(where: { if case .ack = $0 { true } else { false } }) else {
            fatalError("\(body) not acknowledged: \(events)")
        }
    }

    /// Joins on a new connection and returns the connection and its welcome.
    public mutating func join(_ join: Request.Join) -> (ConnectionID, Welcome) {
        let connection = connection()
        let deliveries = send(.join(join), from: connection, ref: nil)
        guard case let .welcome(welcome, _)? = deliveries.to(connection).first else {
            fatalError("not welcomed: \(join): \(deliveries)")
        }
        return (connection, welcome)
    }

    /// Joins a participant on a new connection and returns the connection and its welcome.
    public mutating func participant(_ name: String = "Anna", group: String? = nil) -> (ConnectionID, Welcome) {
        join(Request.Join(name: name, group: group))
    }

    /// Joins a moderator on a new connection.
    public mutating func moderator(_ name: String = "Ruben") -> ConnectionID {
        join(Request.Join(role: .moderator, name: name, key: Harness.key)).0
    }

    /// Joins a screen on a new connection.
    public mutating func screen() -> ConnectionID {
        join(Request.Join(role: .screen)).0
    }
}

extension [Delivery] {
    /// The events one connection received, in order.
    public func to(_ connection: ConnectionID) -> [Event] { filter { $0.to == connection }.map(\.event) }

    /// The error codes one connection received.
    public func errors(to connection: ConnectionID) -> [ErrorCode] {
        to(connection).compactMap {
            switch $0 {
            case let .error(code, _, _): code
            case .rateLimited: .rateLimited
            default: nil
            }
        }
    }

    /// The connections that received an event matching `predicate`.
    public func recipients(where predicate: (Event) -> Bool) -> Set<ConnectionID> {
        Set(filter { predicate($0.event) }.map(\.to))
    }
}

extension Event {
    /// Whether this is a `tally` event.
    public var isTally: Bool { if case .tally = self { true } else { false } }
    /// The tally, when this is a `tally` event.
    public var tallyValue: Tally? { if case let .tally(tally) = self { tally } else { nil } }
    /// Whether this is a `presence` event.
    public var isPresence: Bool { if case .presence = self { true } else { false } }
    /// Whether this is a `statement` event.
    public var isStatement: Bool { if case .statement = self { true } else { false } }
    /// Whether this is a `chat` event.
    public var isChat: Bool { if case .chat = self { true } else { false } }
}
