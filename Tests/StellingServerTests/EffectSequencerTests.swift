import StellingCore
import Testing
@testable import StellingServer
@testable import StellingLWS

/// The durable ordering of effects, without a store or socket.
@Suite struct EffectSequencerTests {
    private let a = ConnectionID(1)
    private let b = ConnectionID(2)

    private func record(_ n: Int) -> Record {
        .statementShown(StatementID("s\(n)"), at: Instant(milliseconds: Int64(n)), present: 0)
    }

    /// A store that numbers what it is given.
    private final class Store {
        var records: [Record] = []
        func append(_ record: Record) -> UInt64 {
            records.append(record)
            return UInt64(records.count)
        }
    }

    @Test func effectsWithNothingToWaitForGoOutAtOnceInOrder() {
        var sequencer = EffectSequencer()
        let store = Store()
        let ready = sequencer.submit([.send(a, .presence(1)), .close(b, code: .policyViolation)], admittedUpTo: 3,
                                     append: store.append)
        #expect(ready == [.init(effect: .send(a, .presence(1)), admittedUpTo: 3),
                          .init(effect: .close(b, code: .policyViolation), admittedUpTo: 3)])
        #expect(store.records.isEmpty)
    }

    @Test func anAckWaitsForItsRecordAndEverythingLaterWaitsBehindIt() {
        var sequencer = EffectSequencer()
        let store = Store()
        let ack = Effect.send(a, .ack(ref: "1", id: nil))
        let first = sequencer.submit([.persist(record(1), then: [ack]), .send(b, .presence(2))], admittedUpTo: 5,
                                     append: store.append)
        #expect(first.isEmpty)
        #expect(store.records == [record(1)])
        // Another call's effect also waits: a connection sees events in the order they were made.
        let second = sequencer.submit([.broadcast(.presence(3), to: .everyone)], admittedUpTo: 6, append: store.append)
        #expect(second.isEmpty)
        #expect(sequencer.waitingCount == 3)
        let released = sequencer.durable(upTo: 1)
        #expect(released == [
            .init(effect: ack, admittedUpTo: 5),
            .init(effect: .send(b, .presence(2)), admittedUpTo: 5),
            .init(effect: .broadcast(.presence(3), to: .everyone), admittedUpTo: 6),
        ])
        #expect(sequencer.waitingCount == 0)
    }

    @Test func recordsAreReleasedOnlyUpToTheDurableSequence() {
        var sequencer = EffectSequencer()
        let store = Store()
        _ = sequencer.submit([.persist(record(1), then: [.send(a, .presence(1))]),
                              .persist(record(2), then: [.send(a, .presence(2))])], admittedUpTo: 0, append: store.append)
        let first = sequencer.durable(upTo: 1)
        #expect(first.map(\.effect) == [.send(a, .presence(1))])
        let again = sequencer.durable(upTo: 1)
        #expect(again.isEmpty)
        // An older report changes nothing.
        let older = sequencer.durable(upTo: 0)
        #expect(older.isEmpty)
        let second = sequencer.durable(upTo: 2)
        #expect(second.map(\.effect) == [.send(a, .presence(2))])
        #expect(sequencer.durableSequence == 2)
    }

    @Test func aRecordAlreadyDurableReleasesAtOnce() {
        var sequencer = EffectSequencer()
        _ = sequencer.durable(upTo: 10)
        let ready = sequencer.submit([.persist(record(1), then: [.send(a, .presence(1))])], admittedUpTo: 0) { _ in 7 }
        #expect(ready.map(\.effect) == [.send(a, .presence(1))])
    }
}
