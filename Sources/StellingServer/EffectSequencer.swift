import StellingCore

/// The durable ordering of the room's effects, as a value with no I/O (DESIGN.md, Durability).
///
/// The `then` effects of a `persist` wait until the store reports the record durable, and
/// every effect submitted after it waits behind it, so each connection sees events in the
/// order the room made them. A broadcast keeps the room's admission count from when it was
/// made, so it reaches only the connections admitted by then (a later joiner's welcome
/// snapshot already holds it). The caller appends records to the store and performs what
/// comes back, in order.
struct EffectSequencer {
    /// An effect that may be carried out now, with the admissions it was made under.
    struct Ready: Equatable {
        var effect: Effect
        var admittedUpTo: UInt64
    }

    private struct Step {
        var waitFor: UInt64
        var effects: [Effect]
        var admittedUpTo: UInt64
    }

    private var steps: [Step] = []
    private var head = 0
    /// The highest sequence the store reported durable.
    private(set) var durableSequence: UInt64 = 0

    /// Effects waiting for a record to become durable.
    var waitingCount: Int { steps[head...].reduce(0) { $0 + $1.effects.count } }

    /// Takes the effects of one room call made with `admittedUpTo` admissions; `append` hands
    /// a record to the store and returns its sequence. Returns what may be carried out now.
    mutating func submit(_ effects: [Effect], admittedUpTo: UInt64, append: (Record) -> UInt64) -> [Ready] {
        var ready: [Ready] = []
        for effect in effects {
            if case let .persist(record, then) = effect {
                steps.append(Step(waitFor: append(record), effects: then, admittedUpTo: admittedUpTo))
            } else if head == steps.count {
                ready.append(Ready(effect: effect, admittedUpTo: admittedUpTo))
            } else {
                steps.append(Step(waitFor: 0, effects: [effect], admittedUpTo: admittedUpTo))
            }
        }
        release(into: &ready)
        return ready
    }

    /// The store reports every record up to `sequence` durable: returns what waited for them.
    mutating func durable(upTo sequence: UInt64) -> [Ready] {
        if sequence > durableSequence { durableSequence = sequence }
        var ready: [Ready] = []
        release(into: &ready)
        return ready
    }

    private mutating func release(into ready: inout [Ready]) {
        while head < steps.count, steps[head].waitFor <= durableSequence {
            let step = steps[head]
            head += 1
            for effect in step.effects { ready.append(Ready(effect: effect, admittedUpTo: step.admittedUpTo)) }
        }
        if head == steps.count {
            steps.removeAll(keepingCapacity: steps.capacity <= 4096)
            head = 0
        } else if head > 1024, head * 2 > steps.count {
            steps.removeFirst(head)
            head = 0
        }
    }
}
