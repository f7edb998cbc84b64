/// `join`: N participants connect and join as fast as the server allows, then stay connected for `hold` seconds.
///
/// Figures: time from the first connect to the last welcome, joins a second, connect-to-welcome
/// latency, and with `--server-pid` the server's memory per joined participant above what it
/// used before the run.
struct JoinScenario {
    let load: LoadRun

    func run() throws(LoadError) -> LoadReport {
        let swarm = load.swarm
        let count = load.options.clients
        var report = LoadReport(scenario: "join", clients: count)
        let residentBefore = load.serverResidentBytes()
        load.startMeasuring()
        try load.joinAll(swarm.add(count, role: .participant))
        load.stopMeasuring()
        let afterJoin = swarm.withState { ($0.counters, $0.joinLatency) }
        let residentAfter = load.serverResidentBytes()

        load.pause(load.options.hold) { "holding: " + $0.joinStatus() }
        let dropped = swarm.withState { $0.counters.dropped }

        let counters = afterJoin.0
        let seconds = counters.lastWelcome > counters.firstJoinStart
            ? Double(counters.lastWelcome - counters.firstJoinStart) / 1e9 : 0
        report.add("welcomed", "participants welcomed", Double(counters.welcomed))
        report.add("failed", "joins failed", Double(counters.joinFailures))
        report.add("join_retries", "joins sent again after rate_limited", Double(counters.joinRetries))
        report.add("join_all_s", "first connect to last welcome", seconds, "s")
        report.add("joins_per_s", "joins a second", seconds > 0 ? Double(counters.welcomed) / seconds : 0, "/s")
        report.add("join_p50_ms", "connect to welcome p50", Double(afterJoin.1.percentile(0.5)) / 1000, "ms")
        report.add("join_p99_ms", "connect to welcome p99", Double(afterJoin.1.percentile(0.99)) / 1000, "ms")
        report.add("join_max_ms", "connect to welcome max", Double(afterJoin.1.maximum) / 1000, "ms")
        if let residentBefore, let residentAfter {
            report.add("server_rss_before_b", "server memory before", Double(residentBefore), "B")
            report.add("server_rss_after_b", "server memory with everyone joined", Double(residentAfter), "B")
            if counters.welcomed > 0 {
                report.add("server_kib_per_participant", "server memory per participant",
                           Double(residentAfter - residentBefore) / Double(counters.welcomed) / 1024, "KiB")
            }
        }
        report.add("held", "participants still connected after the hold", Double(counters.welcomed - dropped))
        report.check("every participant welcomed", counters.welcomed == count,
                     counters.joinFailures == 0 ? "\(counters.welcomed) of \(count)" : swarm.failureSummary())
        report.check("nobody dropped while held", dropped == 0,
                     dropped == 0 ? "\(load.options.hold) s" : "\(dropped) dropped: " + swarm.failureSummary())
        return report
    }
}
