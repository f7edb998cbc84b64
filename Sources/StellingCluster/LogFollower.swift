import StellingCore

/// How one node follows the event's log, as a value with no I/O (docs/SCALING.md): which batches
/// it has applied (a retried batch is applied once), the log's time, and which nodes still live.
///
/// Liveness is read from the log itself: every node appends at least one batch every
/// `ClusterLog.heartbeatMilliseconds`, so a started node whose last batch is more than
/// `goneAfterMilliseconds` of log time behind the newest entry has stopped, and this node says so
/// in the log (`nodeGone`; every node then ends its sessions). A gap in the log longer than
/// `stallMilliseconds` means the log itself stopped (Redis was away for everybody): every node
/// gets a fresh window then, so a Redis pause never counts as the nodes' death.
public struct LogFollower: Sendable {
    /// This node's number (0 while only reading, as `stelling archive` does).
    public let node: UInt32
    /// The last position applied.
    public private(set) var position = LogPosition.start
    /// The newest batch number applied per node.
    var appliedSequences: [UInt32: UInt64] = [:]
    /// The log time of each node's newest batch.
    var lastSeen: [UInt32: UInt64] = [:]
    /// The log time of the newest entry.
    public private(set) var logTime: UInt64 = 0
    /// Nodes this node has said are gone (said once).
    var reportedGone: Set<UInt32> = []

    /// A started node is gone after this much log time without a batch from it.
    public static let goneAfterMilliseconds: UInt64 = 3000
    /// A gap between two log entries longer than this means the log stalled.
    public static let stallMilliseconds: UInt64 = 2000

    /// Starts before the first entry.
    public init(node: UInt32) { self.node = node }

    /// What applying one batch did.
    public struct Applied {
        /// The room's effects, in order, for the connections of every node.
        public var effects: [Effect] = []
        /// The records the batch made, in order (also inside `effects`).
        public var records: [Record] = []
        /// Another node said this node was gone: its sessions ended everywhere.
        public var ownNodeGone = false
    }

    /// Applies one logged batch to `room`. `secrets` gives a join's secrets when the entry came
    /// from this node's own client.
    public mutating func apply(_ logged: LoggedBatch, to room: inout Room, secrets: (ReplicatedEntry) -> JoinSecrets? = { _ in nil }) -> Applied {
        var applied = Applied()
        guard logged.position > position else { return applied }
        position = logged.position
        let time = logged.position.milliseconds
        if logTime > 0, time > logTime + LogFollower.stallMilliseconds {
            for key in lastSeen.keys { lastSeen[key] = time }
        }
        logTime = max(logTime, time)
        guard let batch = logged.batch else { return applied }
        lastSeen[batch.node] = time
        guard batch.sequence > appliedSequences[batch.node, default: 0] else { return applied }
        appliedSequences[batch.node] = batch.sequence
        let now = Instant(milliseconds: Int64(time))
        for (index, entry) in batch.entries.enumerated() {
            var random = SplitMix64(milliseconds: time, sequence: logged.position.sequence, index: index)
            let given = batch.node == node && node != 0 ? secrets(entry) : nil
            let effects = room.apply(entry, now: now, random: &random, secrets: given)
            for effect in effects {
                if case let .persist(record, _) = effect { applied.records.append(record) }
            }
            applied.effects += effects
            switch entry.body {
            case let .nodeGone(gone):
                if gone == node && node != 0 { applied.ownNodeGone = true }
                reportedGone.remove(gone)
            case .nodeStarted:
                let started = ClusterConnection.node(of: entry.connection)
                lastSeen[started] = time
                reportedGone.remove(started)
            default:
                break
            }
        }
        return applied
    }

    /// Started nodes (other than this one) whose batches stopped: to be said gone in the log.
    public mutating func goneNodes(in room: Room) -> [UInt32] {
        var gone: [UInt32] = []
        for started in room.clusterNodes.keys.sorted() where started != node && !reportedGone.contains(started) {
            let seen = lastSeen[started] ?? 0
            if logTime > seen + LogFollower.goneAfterMilliseconds {
                gone.append(started)
                reportedGone.insert(started)
            }
        }
        return gone
    }
}
