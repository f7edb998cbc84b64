/// Everything wrong with one configuration file, each problem with its key path and line.
///
/// Its `description` is what `stelling serve` and `stelling check-config` print: one
/// line per problem, e.g.
/// `config/seminar.yaml:12: limits.chat_chars: expected a whole number, got 'abc' (hint: …)`.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The configuration file as named by the user; `nil` for text given to `parse(yaml:environment:)`.
    public var file: String?
    /// The problems in the order of their lines; never empty.
    public var problems: [ConfigurationProblem]

    /// Makes an error from problems, sorting them by line (problems without a line last).
    public init(file: String?, problems: [ConfigurationProblem]) {
        self.file = file
        self.problems = problems.enumerated()
            .sorted { ($0.element.line ?? .max, $0.offset) < ($1.element.line ?? .max, $1.offset) }
            .map(\.element)
    }

    /// One line per problem, each starting with the file and line.
    public var description: String {
        problems.map { $0.description(file: file) }.joined(separator: "\n")
    }
}

/// One mistake in a configuration file.
public struct ConfigurationProblem: Equatable, Sendable, CustomStringConvertible {
    /// What kind of mistake this is, for programs and tests.
    public enum Kind: String, Equatable, Sendable {
        /// The file is missing, unreadable or not UTF-8.
        case unreadableFile
        /// The text is not valid YAML (or a key appears twice in one mapping).
        case syntax
        /// A value has the wrong type, e.g. text where a whole number belongs.
        case wrongType
        /// A required key is absent.
        case missingKey
        /// A key that Stelling does not know.
        case unknownKey
        /// A statement id or group given twice.
        case duplicate
        /// A value of the right type that is not allowed, e.g. a port over 65535.
        case invalidValue
    }

    /// What kind of mistake this is.
    public var kind: Kind
    /// The key path, e.g. `limits.chat_chars` or `statements[2].text` (list positions count from 0).
    public var path: String
    /// The line in the file, counted from 1, when known.
    public var line: Int?
    /// The column in the line, counted from 1, when known.
    public var column: Int?
    /// What is wrong, in plain English.
    public var message: String
    /// How to put it right, when there is something useful to say.
    public var hint: String?

    /// Makes a problem.
    public init(kind: Kind, path: String, line: Int?, column: Int? = nil, message: String, hint: String? = nil) {
        self.kind = kind
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// The problem without a file name: `line 12: limits.chat_chars: … (hint: …)`.
    public var description: String { description(file: nil) }

    /// The problem as printed for a file: `config/seminar.yaml:12: limits.chat_chars: …`.
    public func description(file: String?) -> String {
        var location = ""
        switch (file, line) {
        case let (file?, line?):
            location = "\(file):\(line)"
            if kind == .syntax, let column { location += ":\(column)" }
        case let (file?, nil):
            location = file
        case let (nil, line?):
            location = "line \(line)"
            if kind == .syntax, let column { location += ", column \(column)" }
        case (nil, nil):
            break
        }
        var parts: [String] = []
        if !location.isEmpty { parts.append(location) }
        if !path.isEmpty { parts.append(path) }
        parts.append(message)
        var text = parts.joined(separator: ": ")
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}
