import StellingCore

/// One connection's pending outbound events, in order, with at most one pending value per
/// `LatestValueSlot`. Events are shared byte arrays: queuing one never copies its bytes.
struct OutboundQueue {
    private enum Item {
        case event([UInt8])
        case latest(LatestValueSlot, [UInt8])
        case replaced
    }

    private var items: [Item] = []
    private var head = 0
    private var latestPosition: [LatestValueSlot: Int] = [:]
    /// The bytes of all pending events (separators not counted).
    private(set) var byteCount = 0
    /// The number of pending events.
    private(set) var count = 0

    /// Whether nothing is pending.
    var isEmpty: Bool { count == 0 }

    /// Queues one event at the end.
    mutating func append(_ bytes: [UInt8]) {
        items.append(.event(bytes))
        byteCount += bytes.count
        count += 1
    }

    /// Queues a latest value for `slot`. A pending older value of that slot is dropped and the
    /// new one goes at the end, where any event queued now goes: it is never sent before
    /// events that were queued earlier than it, and never twice.
    mutating func setLatest(_ slot: LatestValueSlot, _ bytes: [UInt8]) {
        if let position = latestPosition[slot], case .latest(_, let old) = items[position] {
            items[position] = .replaced
            byteCount -= old.count
            count -= 1
        }
        latestPosition[slot] = items.count
        items.append(.latest(slot, bytes))
        byteCount += bytes.count
        count += 1
    }

    /// Removes pending events from the front, in order, while their joined size stays within
    /// `maxBytes` (the first one is always taken), and hands each to `body`.
    mutating func takeBatch(maxBytes: Int, _ body: ([UInt8]) -> Void) {
        var taken = 0
        while head < items.count {
            let bytes: [UInt8]
            var slot: LatestValueSlot?
            switch items[head] {
            case .replaced:
                head += 1
                continue
            case .event(let b):
                bytes = b
            case .latest(let s, let b):
                bytes = b
                slot = s
            }
            let joinedSize = taken == 0 ? bytes.count : taken + 1 + bytes.count
            if taken > 0 && joinedSize > maxBytes { break }
            if let slot { latestPosition[slot] = nil }
            body(bytes)
            taken = joinedSize
            items[head] = .replaced
            head += 1
            byteCount -= bytes.count
            count -= 1
        }
        if head == items.count {
            items.removeAll(keepingCapacity: items.capacity <= 64)
            head = 0
        } else if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            for (slot, position) in latestPosition { latestPosition[slot] = position - head }
            head = 0
        }
    }

    /// Drops everything pending.
    mutating func removeAll() {
        self = OutboundQueue()
    }
}
