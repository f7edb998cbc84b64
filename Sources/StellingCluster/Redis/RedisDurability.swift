/// Whether a Redis keeps what it acknowledged: a cluster needs `appendonly yes` and `appendfsync always`.
public enum RedisDurability {
    /// CONFIG GET appendonly and appendfsync; throws a RedisError whose description is the clear refusal
    /// ("Redis at redis://127.0.0.1:6379/0 has appendfsync everysec: a cluster needs appendonly yes and appendfsync always, or a crash of Redis can lose acknowledged records. Set them in redis.conf or with CONFIG SET.")
    /// and a different clear message when CONFIG is not allowed (renamed/ACL).
    public static func check(_ connection: RedisConnection, url: RedisURL) throws(RedisError) {
        let replies = try connection.pipeline([
            ["CONFIG", "GET", "appendonly"].map { Array($0.utf8) },
            ["CONFIG", "GET", "appendfsync"].map { Array($0.utf8) },
        ])
        var settings: [String: String] = [:]
        for (name, reply) in zip(["appendonly", "appendfsync"], replies) {
            switch reply {
            case .error(let message):
                throw RedisError(
                    "Redis at \(url) does not allow CONFIG GET \(name) (\(message)): stelling cannot check that it runs with appendonly yes and appendfsync always. Allow CONFIG GET for stelling's Redis user, or do not rename CONFIG.",
                    kind: .refused)
            case .array(let pair) where pair.count == 2:
                settings[name] = pair[1].text?.lowercased()
            default:
                throw RedisError(
                    "Redis at \(url) gave no value for CONFIG GET \(name): stelling cannot check that it runs with appendonly yes and appendfsync always.",
                    kind: .refused)
            }
        }
        var wrong: [String] = []
        if settings["appendonly"] != "yes" { wrong.append("appendonly \(settings["appendonly"] ?? "?")") }
        if settings["appendfsync"] != "always" { wrong.append("appendfsync \(settings["appendfsync"] ?? "?")") }
        guard wrong.isEmpty else {
            throw RedisError(
                "Redis at \(url) has \(wrong.joined(separator: " and ")): a cluster needs appendonly yes and appendfsync always, or a crash of Redis can lose acknowledged records. Set them in redis.conf or with CONFIG SET.",
                kind: .refused)
        }
    }
}
