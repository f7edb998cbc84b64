/// Secrets and ids: constant-time key comparison and random ids, beside the hash they use.
extension Room {
    /// Compares keys in constant time by comparing their digests.
    public static func keysMatch(_ given: String, _ expected: String) -> Bool {
        let left = SHA256.digest(given.utf8)
        let right = SHA256.digest(expected.utf8)
        var difference: UInt8 = 0
        for index in 0..<32 { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    /// The letters and digits of ids.
    static let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// `length` random letters and digits: the tail of a participant's id (and of the
    /// anonymous id an erasure or a purge gives, in the store).
    public static func randomID(length: Int, using random: inout some RandomNumberGenerator) -> String {
        var out: [UInt8] = []
        for _ in 0..<length { out.append(idAlphabet[Int.random(in: 0..<idAlphabet.count, using: &random)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Configuration {
    /// Whether `key` is this event's moderator key (compared in constant time); false when the
    /// event has no key or none was given. Joins (on any node of a cluster) and exports ask it.
    public func acceptsModeratorKey(_ key: String?) -> Bool {
        guard let key, let expected = moderatorKey else { return false }
        return Room.keysMatch(key, expected)
    }
}
