/// One client request (PROTOCOL.md). Fields the protocol lets a client leave out are optional
/// here: the room, not the decoder, decides what a missing one means.
public struct Request: Equatable, Sendable {
    /// The client's `ref`, at most 64 characters.
    public var ref: String?
    /// What is asked.
    public var body: Body

    /// Makes a request.
    public init(_ body: Body, ref: String? = nil) {
        self.body = body
        self.ref = ref
    }

    /// The longest `ref` accepted, in code points.
    public static let maximumRefLength = 64

    /// The requests of PROTOCOL.md.
    public enum Body: Equatable, Sendable {
        case join(Join)
        case chat(text: String?)
        case vote(statement: String?, choice: String?)
        case next
        case goto(statement: String?)
        case close
        case open
        /// `visible` left out means `true`, as `mute` without `muted` does.
        case reveal(visible: Bool)
        case add(text: String?)
        case hide(message: Int64?)
        /// `muted` left out means `true`.
        case mute(participant: String?, muted: Bool)
        case announce(text: String)
        /// Erases a participant's personal data (docs/DECISIONS.md, Live erasure); moderators only.
        case erase(participant: String?)
        /// Revision 2: `mode` as sent; `seconds` only read with `slow` (the room checks both).
        case chatMode(mode: String?, seconds: Int64?)
        /// Revision 2: a question to the panel; `anonymous` left out means `false`.
        case ask(text: String?, anonymous: Bool)
        /// Revision 2: `up` left out means `true`.
        case upvote(question: String?, up: Bool)
        /// Revision 2, moderator: open or close asking; `open` left out means `true`, as with `reveal`.
        case questions(open: Bool)
        /// Revision 2, moderator: set a question's state (`open`, `live`, `answered`, `dismissed`).
        case questionState(question: String?, state: String?)
    }

    /// The fields of a `join`.
    public struct Join: Equatable, Sendable {
        /// The role asked for; `participant` when left out.
        public var role: Role
        /// The name as sent (not yet trimmed).
        public var name: String?
        /// The group as sent.
        public var group: String?
        /// The moderator key.
        public var key: String?
        /// A resume token from an earlier welcome.
        public var resume: String?

        /// Makes a join.
        public init(role: Role = .participant, name: String? = nil, group: String? = nil, key: String? = nil, resume: String? = nil) {
            self.role = role
            self.name = name
            self.group = group
            self.key = key
            self.resume = resume
        }
    }
}

/// Why a message is not a valid request: always `bad_request`, with the `ref` when it could be read.
public struct DecodeFailure: Error, Equatable, Sendable {
    /// The request's `ref`, when the message had a valid one.
    public var ref: String?
    /// What is wrong, for people.
    public var message: String

    /// Makes a failure.
    public init(ref: String?, message: String) {
        self.ref = ref
        self.message = message
    }
}

extension Request {
    /// Decodes one client message. Malformed JSON, a non-object, a missing or unknown `type`,
    /// a bad `ref`, or a field of the wrong JSON type is a `DecodeFailure` (`bad_request`).
    public static func decode(_ bytes: some Collection<UInt8>) -> Result<Request, DecodeFailure> {
        guard let value = JSONValue.parse(bytes) else {
            return .failure(DecodeFailure(ref: nil, message: "The message is not valid JSON."))
        }
        guard case let .object(fields) = value else {
            return .failure(DecodeFailure(ref: nil, message: "The message is not a JSON object."))
        }
        var reader = FieldReader(fields: fields)
        let ref: String?
        switch fields["ref"] {
        case nil, .null?: ref = nil
        case let .string(text)? where text.unicodeScalars.count <= maximumRefLength: ref = text
        case .string?: return .failure(DecodeFailure(ref: nil, message: "`ref` is longer than 64 characters."))
        default: return .failure(DecodeFailure(ref: nil, message: "`ref` must be a string."))
        }
        reader.ref = ref
        do {
            guard case let .string(type)? = fields["type"] else {
                throw DecodeFailure(ref: ref, message: "The message has no string field `type`.")
            }
            let body: Body
            switch type {
            case "join":
                let roleText = try reader.string("role")
                let role: Role
                if let roleText {
                    guard let known = Role(rawValue: roleText) else {
                        throw DecodeFailure(ref: ref, message: "Unknown role `\(roleText)`.")
                    }
                    role = known
                } else {
                    role = .participant
                }
                body = .join(Join(role: role, name: try reader.string("name"), group: try reader.string("group"),
                                  key: try reader.string("key"), resume: try reader.string("resume")))
            case "chat": body = .chat(text: try reader.string("text"))
            case "vote": body = .vote(statement: try reader.string("statement"), choice: try reader.string("choice"))
            case "next": body = .next
            case "goto": body = .goto(statement: try reader.string("statement"))
            case "close": body = .close
            case "open": body = .open
            case "reveal": body = .reveal(visible: try reader.bool("visible") ?? true)
            case "add": body = .add(text: try reader.string("text"))
            case "hide": body = .hide(message: try reader.integer("message"))
            case "mute": body = .mute(participant: try reader.string("participant"), muted: try reader.bool("muted") ?? true)
            case "erase": body = .erase(participant: try reader.string("participant"))
            case "announce":
                guard let text = try reader.string("text") else {
                    throw DecodeFailure(ref: ref, message: "`announce` needs `text` (\"\" removes the announcement).")
                }
                body = .announce(text: text)
            case "chat_mode": body = .chatMode(mode: try reader.string("mode"), seconds: try reader.integer("seconds"))
            case "ask": body = .ask(text: try reader.string("text"), anonymous: try reader.bool("anonymous") ?? false)
            case "upvote": body = .upvote(question: try reader.string("question"), up: try reader.bool("up") ?? true)
            case "questions": body = .questions(open: try reader.bool("open") ?? true)
            case "question_state":
                body = .questionState(question: try reader.string("question"), state: try reader.string("state"))
            default:
                throw DecodeFailure(ref: ref, message: "Unknown request type `\(type)`.")
            }
            return .success(Request(body, ref: ref))
        } catch let failure as DecodeFailure {
            return .failure(failure)
        } catch {
            return .failure(DecodeFailure(ref: ref, message: "The request is not valid."))
        }
    }
}

/// Reads optional typed fields; a field present with the wrong JSON type is a failure.
private struct FieldReader {
    let fields: [String: JSONValue]
    var ref: String?

    init(fields: [String: JSONValue]) { self.fields = fields }

    func string(_ name: String) throws -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case let .string(value)?: return value
        default: throw DecodeFailure(ref: ref, message: "`\(name)` must be a string.")
        }
    }

    func bool(_ name: String) throws -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case let .bool(value)?: return value
        default: throw DecodeFailure(ref: ref, message: "`\(name)` must be true or false.")
        }
    }

    func integer(_ name: String) throws -> Int64? {
        switch fields[name] {
        case nil, .null?: return nil
        case let .integer(value)?: return value
        default: throw DecodeFailure(ref: ref, message: "`\(name)` must be a whole number.")
        }
    }
}
