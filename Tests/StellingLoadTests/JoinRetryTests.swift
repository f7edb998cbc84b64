import Testing
@testable import StellingLoad

/// The load tool's retry of a join refused with `rate_limited`, as the web page does it.
@Suite struct JoinRetryTests {
    @Test(arguments: [
        (0, 0.0, 250), (0, 0.99, 495), (1, 1.0, 1000), (3, 0.5, 2000), (10, 1.0, 20_000), (16, 0.999, 19_980),
    ])
    func thePageBackoffIsFullJitterCappedWithAFloor(attempt: Int, random: Double, milliseconds: UInt64) {
        #expect(JoinRetry.page.delayNanoseconds(attempt: attempt, random: random) == milliseconds * 1_000_000)
    }

    @Test func aFloodRetriesAtOnce() {
        #expect(JoinRetry.immediate.delayNanoseconds(attempt: 5, random: 0.7) == 0)
    }

    @Test func theOptionsCheckTheSpread() {
        var options = LoadOptions(url: "ws://127.0.0.1:8080/ws")
        options.spread = -1
        #expect(throws: LoadError.self) { try options.validate(for: .join) }
        options.spread = 10
        #expect(throws: Never.self) { try options.validate(for: .join) }
    }
}
