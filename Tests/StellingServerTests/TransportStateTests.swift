import Testing
@testable import StellingServer

/// The transport's socket-free parts: reassembly, outbound queue, keep-alive rule, routing.
@Suite struct MessageAssemblerTests {
    private func feed(_ assembler: inout MessageAssembler, _ text: String,
                      first: Bool, final: Bool, binary: Bool = false) -> MessageAssembler.Outcome {
        Array(text.utf8).withUnsafeBytes { assembler.receive($0, first: first, final: final, binary: binary) }
    }

    @Test func aSinglePieceIsAMessage() {
        var assembler = MessageAssembler(limit: 10)
        #expect(feed(&assembler, "hello", first: true, final: true) == .message(Array("hello".utf8)))
    }

    @Test func piecesAreJoinedUntilTheFinalOne() {
        var assembler = MessageAssembler(limit: 10)
        #expect(feed(&assembler, "ab", first: true, final: false) == .incomplete)
        #expect(feed(&assembler, "cd", first: false, final: false) == .incomplete)
        #expect(feed(&assembler, "e", first: false, final: true) == .message(Array("abcde".utf8)))
        #expect(feed(&assembler, "next", first: true, final: true) == .message(Array("next".utf8)))
    }

    @Test func theLimitIsEnforcedWhileReceiving() {
        var assembler = MessageAssembler(limit: 5)
        #expect(feed(&assembler, "abc", first: true, final: false) == .incomplete)
        #expect(feed(&assembler, "def", first: false, final: false) == .close(code: 1009, reason: "message too big"))
        var exact = MessageAssembler(limit: 5)
        #expect(feed(&exact, "abcde", first: true, final: true) == .message(Array("abcde".utf8)))
        #expect(feed(&exact, "abcdef", first: true, final: true) == .close(code: 1009, reason: "message too big"))
    }

    @Test func binaryIsRefusedWith1003() {
        var assembler = MessageAssembler(limit: 5)
        guard case .close(let code, _) = feed(&assembler, "x", first: true, final: true, binary: true) else {
            Issue.record("binary was accepted")
            return
        }
        #expect(code == 1003)
    }
}

@Suite struct OutboundQueueTests {
    private func drain(_ queue: inout OutboundQueue, maxBytes: Int = 1 << 20) -> [String] {
        var taken: [String] = []
        queue.takeBatch(maxBytes: maxBytes) { taken.append(String(decoding: $0, as: UTF8.self)) }
        return taken
    }

    @Test func eventsLeaveInOrder() {
        var queue = OutboundQueue()
        queue.append(Array("a".utf8))
        queue.append(Array("bb".utf8))
        #expect(queue.count == 2 && queue.byteCount == 3)
        #expect(drain(&queue) == ["a", "bb"])
        #expect(queue.isEmpty && queue.byteCount == 0)
    }

    @Test func aNewerLatestValueReplacesTheOlderAndGoesLast() {
        var queue = OutboundQueue()
        queue.setLatest(.tally("s1"), Array("t1".utf8))
        queue.append(Array("e1".utf8))
        queue.setLatest(.presence, Array("p1".utf8))
        queue.setLatest(.tally("s1"), Array("t2".utf8))
        #expect(queue.count == 3 && queue.byteCount == 6)
        #expect(drain(&queue) == ["e1", "p1", "t2"])
        // Once sent, a slot takes a new value again without touching the old one.
        queue.setLatest(.tally("s1"), Array("t3".utf8))
        #expect(drain(&queue) == ["t3"])
    }

    @Test func aBatchStopsAtTheByteLimitButAlwaysTakesOne() {
        var queue = OutboundQueue()
        for text in ["aaaa", "bbbb", "cccc"] { queue.append(Array(text.utf8)) }
        #expect(drain(&queue, maxBytes: 9) == ["aaaa", "bbbb"])  // 4 + "\n" + 4
        #expect(drain(&queue, maxBytes: 2) == ["cccc"])
        #expect(queue.isEmpty)
    }

    @Test func aLatestValueKeepsItsSlotAcrossAPartialDrain() {
        var queue = OutboundQueue()
        queue.append(Array("aaaa".utf8))
        queue.setLatest(.tally("s1"), Array("t1".utf8))
        #expect(drain(&queue, maxBytes: 4) == ["aaaa"])
        queue.setLatest(.tally("s1"), Array("t2".utf8))
        #expect(queue.count == 1)
        #expect(drain(&queue) == ["t2"])
    }
}

@Suite struct KeepaliveTests {
    let rule = Keepalive(keepaliveSeconds: 60)

    @Test func aQuietConnectionIsPingedOnceThenDropped() {
        #expect(rule.action(now: 29_999, lastReceived: 0, pinged: false) == .none)
        #expect(rule.action(now: 30_000, lastReceived: 0, pinged: false) == .ping)
        #expect(rule.action(now: 45_000, lastReceived: 0, pinged: true) == .none)
        #expect(rule.action(now: 60_000, lastReceived: 0, pinged: true) == .drop)
    }

    @Test func theSweepRunsOftenEnough() {
        #expect(rule.sweepIntervalMilliseconds == 1000)
        #expect(Keepalive(keepaliveSeconds: 2).sweepIntervalMilliseconds == 250)
    }
}

@Suite struct StaticFilesTests {
    @Test(arguments: [
        ("/", "index.html"), ("/moderator", "moderator.html"), ("/screen", "screen.html"),
        ("/app.js", "app.js"), ("/fonts/a.woff2", "fonts/a.woff2"),
    ])
    func pathsMapToFiles(path: String, file: String) {
        #expect(StaticFiles.relativePath(for: path) == file)
    }

    @Test(arguments: ["/../etc/passwd", "/a/../b", "/.git/config", "//x", "/a//b", "/dir/", "/a\\b"])
    func unsafePathsAreRefused(path: String) {
        #expect(StaticFiles.relativePath(for: path) == nil)
    }

    @Test(arguments: [
        ("a.html", "text/html; charset=utf-8"), ("a.css", "text/css; charset=utf-8"),
        ("a.js", "text/javascript; charset=utf-8"), ("a.json", "application/json"),
        ("a.svg", "image/svg+xml"), ("a.png", "image/png"), ("favicon.ico", "image/x-icon"),
        ("a.woff2", "font/woff2"), ("a.txt", "text/plain; charset=utf-8"), ("README", "application/octet-stream"),
    ])
    func contentTypesFollowTheExtension(file: String, type: String) {
        #expect(StaticFiles.contentType(for: file) == type)
    }
}
