import Foundation
import Testing
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// `--echo-conformance`: the /echo endpoint returns every message through the real receive
/// path (reassembly, UTF-8 validation, limits), binary as binary, for the Autobahn suite.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct EchoConformanceTests {
    typealias Opcode = RawWebSocket.Opcode

    func withEcho(_ body: (WebSocketServer, EchoHandler, Int) throws -> Void) throws {
        try withServer(configure: { $0.echoConformance = true }, body)
    }

    @Test func textComesBackUnchangedAndNeverReachesTheHandler() throws {
        try withEcho { _, handler, port in
            let (client, status) = try RawWebSocket.open(port: port, path: "/echo", subprotocols: nil)
            #expect(status == 101)
            try client.sendText("hallo, wereld ✓")
            let frame = try #require(try client.readFrame())
            #expect(frame.opcode == Opcode.text && frame.fin)
            #expect(frame.text == "hallo, wereld ✓")
            #expect(handler.opened.isEmpty && handler.messages.isEmpty)
        }
    }

    @Test func aFragmentedMessageComesBackWhole() throws {
        try withEcho { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port, path: "/echo", subprotocols: nil)
            try client.sendFrame(opcode: Opcode.text, Array("frag".utf8), fin: false)
            try client.sendFrame(opcode: Opcode.ping, Array("p".utf8))
            try client.sendFrame(opcode: Opcode.continuation, Array("men".utf8), fin: false)
            try client.sendFrame(opcode: Opcode.continuation, Array("ted".utf8), fin: true)
            var texts: [String] = []
            while texts.isEmpty, let frame = try client.readFrame() {
                if frame.opcode == Opcode.pong { #expect(frame.text == "p") }
                if frame.opcode == Opcode.text { texts.append(frame.text) }
            }
            #expect(texts == ["fragmented"])
        }
    }

    @Test func binaryComesBackAsBinary() throws {
        try withEcho { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port, path: "/echo", subprotocols: nil)
            let bytes: [UInt8] = [0, 1, 2, 0xFF, 0xC3, 0x28]
            try client.sendFrame(opcode: Opcode.binary, Array(bytes[..<3]), fin: false)
            try client.sendFrame(opcode: Opcode.continuation, Array(bytes[3...]), fin: true)
            let frame = try #require(try client.readFrame())
            #expect(frame.opcode == Opcode.binary)
            #expect(frame.payload == bytes)
        }
    }

    @Test func invalidUTF8ClosesWith1007() throws {
        try withEcho { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port, path: "/echo", subprotocols: nil)
            try client.sendFrame(opcode: Opcode.text, [0x7B, 0xC3], fin: false)  // valid so far
            try client.sendFrame(opcode: Opcode.continuation, [0x28, 0x7D], fin: true)  // C3 28: invalid
            #expect(try client.readClose().code == 1007)
        }
    }

    @Test func theLimitIsOneMebibyteThere() throws {
        try withEcho { _, _, port in
            let (client, _) = try RawWebSocket.open(port: port, path: "/echo", subprotocols: nil)
            let big = String(repeating: "a", count: 1 << 20)
            try client.sendText(big)
            #expect(try client.readText(timeout: 10) == big)
            try client.sendText(big + "b")
            #expect(try client.readClose().code == 1009)
        }
    }

    @Test func theEchoSubprotocolSelectsItOnWsToo() throws {
        try withEcho { _, handler, port in
            let (client, status) = try RawWebSocket.open(port: port, subprotocols: ["echo"])
            #expect(status == 101)
            #expect(client.handshakeHeaders["sec-websocket-protocol"] == "echo")
            try client.sendFrame(opcode: Opcode.binary, [9, 8, 7])
            #expect(try client.readFrame()?.payload == [9, 8, 7])
            // stelling.v1 on /ws is unchanged: binary is still 1003 there.
            let (normal, _) = try RawWebSocket.open(port: port)
            try normal.sendText("x")
            #expect(try normal.readText() == "x")  // from the test handler: `messages` below saw it
            try normal.sendFrame(opcode: Opcode.binary, [1])
            #expect(try normal.readClose().code == 1003)
            #expect(handler.messages == ["x"])
        }
    }

    @Test func theEchoIsRefusedOffLoopback() throws {
        #expect(throws: TransportError.self) {
            try withServer(configure: { $0.echoConformance = true; $0.host = "0.0.0.0" }) { _, _, _ in }
        }
    }
}
