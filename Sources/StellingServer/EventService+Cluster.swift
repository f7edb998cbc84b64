import Logging
import StellingCluster
import StellingCore
import StellingLWS

/// Issue 16: the service as one node of a cluster (docs/SCALING.md). What this node's clients ask
/// goes into the event's log; every batch of the log, this node's own included, is applied here
/// in the log's order, and its effects are carried out for this node's connections. An answer
/// goes out when its request comes back from the log: Redis has it on disk by then.
extension EventService {
    /// A client's request as it goes into the log: a join loses its secrets (the key is checked
    /// here, the resume token hashed, a new participant's token made here and kept for the welcome).
    func replicated(_ request: Request, _ text: [UInt8], from global: ConnectionID) -> ReplicatedEntry {
        guard case let .join(join) = request.body else { return ReplicatedEntry(connection: global, body: .request(text)) }
        let verified = join.role == .moderator && room.configuration.acceptsModeratorKey(join.key)
        let token = Room.newToken(using: &random)
        pendingSecrets[global, default: []].append(JoinSecrets(resumeToken: join.resume, newToken: token))
        let entry = ReplicatedJoin(role: join.role, name: join.name, group: join.group, keyVerified: verified,
                                   resumeHash: join.resume.map { SHA256.hex($0.utf8) }, newTokenHash: SHA256.hex(token.utf8),
                                   ref: request.ref)
        return ReplicatedEntry(connection: global, body: .join(entry))
    }

    /// Applies batches read from the log, in order (the reader thread waits for this).
    public func applyLogged(_ batches: [LoggedBatch]) {
        guard let cluster else { return }
        for logged in batches {
            let applied = follower.apply(logged, to: &room) { [self] entry in takeSecrets(for: entry) }
            if logged.batch != nil { metrics.clusterBatches.increment() }
            for effect in applied.effects {
                if case let .persist(record, then) = effect {
                    // The log is the durable copy; the local database follows it (exports, archive).
                    count(record)
                    _ = store.append(record)
                    for step in then { perform(step, admittedUpTo: room.admissions) }
                } else {
                    perform(effect, admittedUpTo: room.admissions)
                }
            }
            if applied.ownNodeGone { rejoinCluster(cluster) }
        }
        for gone in follower.goneNodes(in: room) {
            logger.warning("node gone", metadata: ["cluster.node": "\(gone)", "cluster.node_name": "\(room.clusterNodes[gone] ?? "")"])
            cluster.append(ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: node), body: .nodeGone(node: gone)))
        }
        metrics.present.set(Int64(room.present))
    }

    /// The secrets kept for a join of this node's, taken when the join comes back from the log.
    func takeSecrets(for entry: ReplicatedEntry) -> JoinSecrets? {
        guard case .join = entry.body, var queue = pendingSecrets[entry.connection], !queue.isEmpty else { return nil }
        let secrets = queue.removeFirst()
        pendingSecrets[entry.connection] = queue.isEmpty ? nil : queue
        return secrets
    }

    /// Another node said this one was gone (it could not reach Redis for a while): every node
    /// ended this node's sessions, so its clients reconnect (1012) and resume, and the node says
    /// it is back.
    func rejoinCluster(_ cluster: ClusterLog) {
        logger.warning("this node was taken for gone; its clients reconnect", metadata: ["cluster.node": "\(node)"])
        pendingSecrets = [:]
        if let transport {
            for id in peers.keys { transport.close(id, code: .serviceRestart, reason: "reconnect") }
        }
        cluster.append(ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: node), body: .nodeStarted(name: cluster.nodeName)))
    }
}

