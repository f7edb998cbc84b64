import Testing
@testable import StellingCore
import StellingTesting

/// Issue 16: rooms on several nodes applying one log stay the same, and each node answers its own.
@Suite struct ReplicationTests {
    /// One node's room, fed the log's entries in order.
    struct Node {
        var room = Room(configuration: Harness.configuration())
        let number: UInt32
        var effects: [Effect] = []
        var records: [Record] = []

        init(_ number: UInt32) { self.number = number }

        mutating func apply(_ entry: ReplicatedEntry, at milliseconds: UInt64, index: Int = 0, secrets: JoinSecrets? = nil) {
            var random = SplitMix64(milliseconds: milliseconds, sequence: 0, index: index)
            let mine = ClusterConnection.node(of: entry.connection) == number
            let made = room.apply(entry, now: Instant(milliseconds: Int64(milliseconds)), random: &random, secrets: mine ? secrets : nil)
            effects += made
            for effect in made { if case let .persist(record, _) = effect { records.append(record) } }
        }

        /// What the node sends its own connection `local` (sends and `then` sends).
        func sent(to connection: ConnectionID) -> [Event] {
            var events: [Event] = []
            func walk(_ effect: Effect) {
                switch effect {
                case let .send(id, event) where id == connection: events.append(event)
                case let .persist(_, then): then.forEach(walk)
                default: break
                }
            }
            effects.forEach(walk)
            return events
        }
    }

    /// Applies one entry on every node.
    func everywhere(_ nodes: inout [Node], _ entry: ReplicatedEntry, at milliseconds: UInt64, secrets: JoinSecrets? = nil) {
        for index in nodes.indices { nodes[index].apply(entry, at: milliseconds, secrets: secrets) }
    }

    func participantJoin(_ name: String, token: String, ref: String = "j", resume: String? = nil) -> ReplicatedJoin {
        ReplicatedJoin(role: .participant, name: name, group: "Rijk", keyVerified: false, resumeHash: resume.map { SHA256.hex($0.utf8) },
                       newTokenHash: SHA256.hex(token.utf8), ref: ref)
    }

    func request(_ json: String, from connection: ConnectionID) -> ReplicatedEntry {
        ReplicatedEntry(connection: connection, body: .request(Array(json.utf8)))
    }

    func welcome(in events: [Event]) -> Welcome? {
        for event in events { if case let .welcome(welcome, _) = event { return welcome } }
        return nil
    }

    @Test func aBatchOfEveryKindOfEntryReadsBackAsWritten() {
        let entries = [
            ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 7), body: .nodeStarted(name: "a")),
            ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(3), node: 7),
                            body: .join(participantJoin("Änna 👋", token: "t", ref: "j1", resume: "old"))),
            ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(4), node: 7),
                            body: .join(ReplicatedJoin(role: .moderator, name: nil, group: nil, keyVerified: true, resumeHash: nil,
                                                       newTokenHash: "", ref: nil))),
            request("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: ClusterConnection.global(ConnectionID(3), node: 7)),
            ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(3), node: 7), body: .closed),
            ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 7), body: .nodeGone(node: 2)),
        ]
        let batch = ReplicatedBatch(node: 7, sequence: 42, entries: entries)
        let bytes = batch.encoded()
        #expect(ReplicatedBatch(decoding: bytes) == batch)
        // Cut short or with a byte too many, it is not a batch.
        #expect(ReplicatedBatch(decoding: Array(bytes.dropLast())) == nil)
        #expect(ReplicatedBatch(decoding: bytes + [0]) == nil)
        #expect(ReplicatedBatch(decoding: Array("{\"type\":\"chat\"}".utf8)) == nil)
        // A count larger than the bytes could hold is refused before anything is reserved.
        var huge = bytes
        huge.replaceSubrange(15..<19, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(ReplicatedBatch(decoding: huge) == nil)
    }

    @Test func aConnectionNumberCarriesItsNode() {
        let global = ClusterConnection.global(ConnectionID(12345), node: 3)
        #expect(ClusterConnection.node(of: global) == 3)
        #expect(ClusterConnection.local(global) == ConnectionID(12345))
        // A single server is node 0: its numbers are its own.
        #expect(ClusterConnection.global(ConnectionID(99), node: 0) == ConnectionID(99))
    }

    @Test func twoNodesApplyingOneLogHaveTheSameRoomAndOnlyTheReceivingNodeKnowsTheToken() {
        var nodes = [Node(1), Node(2)]
        let anna = ClusterConnection.global(ConnectionID(1), node: 1)
        let bert = ClusterConnection.global(ConnectionID(1), node: 2)
        let moderator = ClusterConnection.global(ConnectionID(2), node: 2)
        everywhere(&nodes, ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 1), body: .nodeStarted(name: "a")), at: 1000)
        everywhere(&nodes, ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 2), body: .nodeStarted(name: "b")), at: 1001)
        everywhere(&nodes, ReplicatedEntry(connection: anna, body: .join(participantJoin("Anna", token: "anna-token"))), at: 1002,
                   secrets: JoinSecrets(resumeToken: nil, newToken: "anna-token"))
        everywhere(&nodes, ReplicatedEntry(connection: bert, body: .join(participantJoin("Bert", token: "bert-token"))), at: 1003,
                   secrets: JoinSecrets(resumeToken: nil, newToken: "bert-token"))
        everywhere(&nodes, ReplicatedEntry(connection: moderator, body: .join(ReplicatedJoin(
            role: .moderator, name: "Ruben", group: nil, keyVerified: true, resumeHash: nil, newTokenHash: "", ref: "m"))), at: 1004)
        everywhere(&nodes, request("{\"type\":\"next\",\"ref\":\"n\"}", from: moderator), at: 1005)
        everywhere(&nodes, request("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\",\"ref\":\"v\"}", from: anna), at: 1006)
        everywhere(&nodes, request("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"disagree\",\"ref\":\"w\"}", from: bert), at: 1007)
        everywhere(&nodes, request("{\"type\":\"chat\",\"text\":\"Goedemiddag\",\"ref\":\"c\"}", from: bert), at: 1008)

        #expect(nodes[0].records == nodes[1].records)
        #expect(nodes[0].records.count == 6) // two joins, shown, two votes, one chat
        #expect(nodes[0].room.tally(of: "s1") == nodes[1].room.tally(of: "s1"))
        #expect(nodes[0].room.tally(of: "s1")?.counts == Counts(agree: 1, disagree: 1, pass: 0))
        #expect(nodes[0].room.present == 2 && nodes[1].room.present == 2)
        #expect(nodes[0].room.chat == nodes[1].room.chat)
        // Anna's node welcomes her with her token; the other node knows only its hash.
        #expect(welcome(in: nodes[0].sent(to: anna))?.resume == "anna-token")
        #expect(welcome(in: nodes[1].sent(to: anna))?.resume != "anna-token")
        #expect(welcome(in: nodes[0].sent(to: anna))?.you.id == welcome(in: nodes[1].sent(to: anna))?.you.id)
        #expect(nodes[1].sent(to: bert).contains(.ack(ref: "w", id: nil)))
    }

    @Test func aParticipantResumesOnAnotherNodeAndTheirVoteIsReplacedNotAdded() {
        var nodes = [Node(1), Node(2)]
        let moderator = ClusterConnection.global(ConnectionID(9), node: 1)
        let first = ClusterConnection.global(ConnectionID(1), node: 1)
        let second = ClusterConnection.global(ConnectionID(1), node: 2)
        everywhere(&nodes, ReplicatedEntry(connection: moderator, body: .join(ReplicatedJoin(
            role: .moderator, name: nil, group: nil, keyVerified: true, resumeHash: nil, newTokenHash: "", ref: nil))), at: 10)
        everywhere(&nodes, request("{\"type\":\"next\"}", from: moderator), at: 11)
        everywhere(&nodes, ReplicatedEntry(connection: first, body: .join(participantJoin("Anna", token: "t1"))), at: 12,
                   secrets: JoinSecrets(resumeToken: nil, newToken: "t1"))
        everywhere(&nodes, request("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"agree\"}", from: first), at: 13)
        // Anna's node dies; she comes back on node 2 with her token.
        everywhere(&nodes, ReplicatedEntry(connection: first, body: .nodeGone(node: 1)), at: 14)
        #expect(nodes[1].room.present == 0)
        everywhere(&nodes, ReplicatedEntry(connection: second, body: .join(participantJoin("", token: "unused", resume: "t1"))), at: 15,
                   secrets: JoinSecrets(resumeToken: "t1", newToken: "unused"))
        let resumed = welcome(in: nodes[1].sent(to: second))
        #expect(resumed?.resume == "t1")
        #expect(resumed?.you.name == "Anna")
        #expect(resumed?.myVotes.map(\.choice) == [.agree])
        everywhere(&nodes, request("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"pass\"}", from: second), at: 16)
        for node in nodes { #expect(node.room.tally(of: "s1")?.counts == Counts(agree: 0, disagree: 0, pass: 1)) }
        #expect(nodes[0].room.participants.count == 1)
    }

    @Test func aParticipantWithTabsOnTwoNodesHasOneVoteBucket() {
        var nodes = [Node(1), Node(2)]
        let moderator = ClusterConnection.global(ConnectionID(9), node: 1)
        let tabA = ClusterConnection.global(ConnectionID(1), node: 1)
        let tabB = ClusterConnection.global(ConnectionID(1), node: 2)
        everywhere(&nodes, ReplicatedEntry(connection: moderator, body: .join(ReplicatedJoin(
            role: .moderator, name: nil, group: nil, keyVerified: true, resumeHash: nil, newTokenHash: "", ref: nil))), at: 10)
        everywhere(&nodes, request("{\"type\":\"next\"}", from: moderator), at: 11)
        everywhere(&nodes, ReplicatedEntry(connection: tabA, body: .join(participantJoin("Anna", token: "t1"))), at: 12,
                   secrets: JoinSecrets(resumeToken: nil, newToken: "t1"))
        everywhere(&nodes, ReplicatedEntry(connection: tabB, body: .join(participantJoin("", token: "x", resume: "t1"))), at: 12,
                   secrets: JoinSecrets(resumeToken: "t1", newToken: "x"))
        let burst = nodes[0].room.configuration.limits.voteBurst
        for index in 0...burst {
            let tab = index.isMultiple(of: 2) ? tabA : tabB
            let choice = index.isMultiple(of: 2) ? "agree" : "disagree"
            everywhere(&nodes, request("{\"type\":\"vote\",\"statement\":\"s1\",\"choice\":\"\(choice)\",\"ref\":\"v\(index)\"}", from: tab), at: 13)
        }
        let limited = (nodes[0].sent(to: tabA) + nodes[1].sent(to: tabB)).filter {
            if case .rateLimited = $0 { true } else { false }
        }
        #expect(limited.count == 1)
        #expect(nodes[0].room.present == 1)
    }

    @Test func aRestartedNodeEndsTheSessionsOfItsEarlierRunAndAGoneNodeLosesItsSessions() {
        var nodes = [Node(1), Node(3)]
        let oldRun = ClusterConnection.global(ConnectionID(1), node: 2)
        let other = ClusterConnection.global(ConnectionID(1), node: 1)
        everywhere(&nodes, ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 1), body: .nodeStarted(name: "a")), at: 1)
        everywhere(&nodes, ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 2), body: .nodeStarted(name: "b")), at: 2)
        everywhere(&nodes, ReplicatedEntry(connection: oldRun, body: .join(participantJoin("Anna", token: "t1"))), at: 3)
        everywhere(&nodes, ReplicatedEntry(connection: other, body: .join(participantJoin("Bert", token: "t2"))), at: 4)
        #expect(nodes[0].room.present == 2)
        // Node "b" was killed and starts again as node 3: Anna's old session is gone everywhere.
        everywhere(&nodes, ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 3), body: .nodeStarted(name: "b")), at: 5)
        for node in nodes {
            #expect(node.room.present == 1)
            #expect(node.room.clusterNodes == [1: "a", 3: "b"])
        }
        everywhere(&nodes, ReplicatedEntry(connection: ClusterConnection.global(ConnectionID(0), node: 3), body: .nodeGone(node: 1)), at: 6)
        for node in nodes {
            #expect(node.room.present == 0)
            #expect(node.room.clusterNodes == [3: "b"])
            // What the participants did stays: only sessions end.
            #expect(node.room.participants.count == 2)
        }
    }

    @Test func aModeratorJoinWhoseKeyDidNotMatchIsRefusedEverywhere() {
        var nodes = [Node(1), Node(2)]
        let connection = ClusterConnection.global(ConnectionID(5), node: 2)
        everywhere(&nodes, ReplicatedEntry(connection: connection, body: .join(ReplicatedJoin(
            role: .moderator, name: nil, group: nil, keyVerified: false, resumeHash: nil, newTokenHash: "", ref: "m"))), at: 1)
        #expect(nodes[1].effects == [.send(connection, .error(.unauthorized, ref: "m")), .close(connection, code: .policyViolation)])
        #expect(nodes[0].room.role(of: connection) == nil && nodes[1].room.role(of: connection) == nil)
    }

    @Test func theSameEntryGivesTheSameNewParticipantIdOnEveryNode() {
        var nodes = [Node(1), Node(2)]
        for number in 1...20 {
            let connection = ClusterConnection.global(ConnectionID(UInt64(number)), node: 1)
            everywhere(&nodes, ReplicatedEntry(connection: connection, body: .join(participantJoin("P\(number)", token: "t\(number)"))),
                       at: UInt64(number))
        }
        #expect(nodes[0].room.participants.keys.sorted() == nodes[1].room.participants.keys.sorted())
        #expect(nodes[0].room.participants.count == 20)
    }
}
