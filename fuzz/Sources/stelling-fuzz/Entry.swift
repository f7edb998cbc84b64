// libFuzzer entry point: every input goes through the JSON parser's round trip, Request.decode,
// and a room (split at newlines into messages, each sent from a connection in every state).
// A broken invariant prints what broke and traps, so libFuzzer saves the input as a crash.
// Build with -sanitize=fuzzer (which supplies main); see `make fuzz` and docs/FUZZING.md.

import StellingCore

@_cdecl("LLVMFuzzerTestOneInput")
public func stellingFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let problem = JSONOracle.roundTripProblem(bytes) { fail("JSON round trip: \(problem)") }
    if let problem = DecodeOracle.problem(bytes) { fail("Request.decode: \(problem)") }

    var driver = RoomDriver(groups: true, statements: 3, seed: 1)
    func join(_ json: String) -> ConnectionID {
        let connection = driver.connect()
        driver.send(Array(json.utf8), from: connection)
        return connection
    }
    let moderator = join("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(RoomDriver.key)\",\"name\":\"Ruben\"}")
    driver.send(Array("{\"type\":\"next\"}".utf8), from: moderator)
    let participant = join("{\"type\":\"join\",\"name\":\"Anna\",\"group\":\"Rijk\"}")
    let screen = join("{\"type\":\"join\",\"role\":\"screen\"}")
    driver.send(Array("{\"type\":\"chat\",\"text\":\"eerste\"}".utf8), from: participant)
    for message in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).prefix(32) {
        let message = Array(message)
        for connection in [participant, moderator, screen] where driver.open.contains(connection) {
            driver.send(message, from: connection)
        }
        driver.send(message, from: driver.connect())
        driver.tick(advancing: 300)
    }
    driver.checkReplay()
    if !driver.problems.isEmpty { fail("room:\n" + driver.problems.joined(separator: "\n")) }
    return 0
}

private func fail(_ problem: String) -> Never {
    print("stelling-fuzz: \(problem)")
    fatalError("stelling-fuzz found a problem")
}
