import Foundation
import StellingCore
import StellingLoad
import StellingTesting

extension LiveEvent {
    /// The event the load tests run against: three groups, two statements, a keepalive of 120 s,
    /// and join limits no run reaches unless `limits` sets them.
    static func forLoad(limits: Limits = Limits(joinBurst: 100_000, joinBurstTotal: 100_000)) throws -> LiveEvent {
        let configuration = Configuration(
            title: "Load test", groups: ["Rijk", "Provincie", "Gemeente"],
            statements: [StatementSpec(id: "s1", text: "Een"), StatementSpec(id: "s2", text: "Twee")],
            moderatorKey: LiveEvent.key, keepaliveSeconds: 120, limits: limits)
        return try LiveEvent(configuration: configuration)
    }

    /// Options for a run against this server: its URL and key, this process's pid, no progress lines.
    func options(clients: Int = 200) -> LoadOptions {
        var options = LoadOptions(url: url)
        options.moderatorKey = LiveEvent.key
        options.clients = clients
        options.serverPID = getpid()
        options.timeout = 30
        options.hold = 0.3
        options.progress = nil
        return options
    }
}
