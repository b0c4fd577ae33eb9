import NIOCore

/// A consumer group in the native embedded broker: its members, the rebalance protocol
/// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, as Apache Kafka's group coordinator runs it
/// for eager rebalancing) and its committed offsets.
///
/// A rebalance starts when a member joins or leaves, or misses its session timeout. Members learn
/// of it from their heartbeat (REBALANCE_IN_PROGRESS) and join again; the join completes once
/// every member has, or at the rebalance timeout without the ones that did not. The leader then
/// sends the assignment in its SyncGroup, which the others wait for.
///
/// Confined to the broker's event loop; answers are given through the callbacks requests leave.
final class ConsumerGroup {
    enum State { case empty, preparingRebalance, completingRebalance, stable }

    struct JoinAnswer {
        var error: KafkaErrorCode
        var generation: Int32 = -1
        var protocolName = ""
        var leader = ""
        var memberID = ""
        /// Every member's metadata for the chosen protocol, for the leader only.
        var members: [(id: String, metadata: ByteBuffer)] = []
    }

    struct SyncAnswer {
        var error: KafkaErrorCode
        var assignment = ByteBuffer()
    }

    private struct Member {
        let id: String
        let clientID: String
        let clientHost: String
        var sessionTimeout: TimeAmount
        var rebalanceTimeout: TimeAmount
        var protocols: [(name: String, metadata: ByteBuffer)]
        var lastHeard: NIODeadline
        var assignment = ByteBuffer()
        var pendingJoin: ((JoinAnswer) -> Void)?
        var pendingSync: ((SyncAnswer) -> Void)?
    }

    let id: String
    private(set) var state = State.empty
    private(set) var generation: Int32 = 0
    private var protocolType: String?
    private var protocolName: String?
    private var leader: String?
    /// Members in the order they joined (the first is the leader when there is none).
    private var members: [Member] = []
    private var rebalanceDeadline = NIODeadline.distantFuture
    private var memberCounter = 0
    /// Committed offsets by topic and partition, with their metadata.
    private(set) var offsets: [String: [Int32: (offset: Int64, metadata: String?)]] = [:]

    init(id: String) { self.id = id }

    private func index(of memberID: String) -> Int? { members.firstIndex { $0.id == memberID } }

    var isEmpty: Bool { members.isEmpty }

    // MARK: Requests

    func join(
        memberID: String, clientID: String, clientHost: String = "", sessionTimeout: TimeAmount, rebalanceTimeout: TimeAmount,
        protocolType: String, protocols: [(name: String, metadata: ByteBuffer)], now: NIODeadline,
        answer: @escaping (JoinAnswer) -> Void
    ) {
        guard !protocols.isEmpty, !protocolType.isEmpty else { return answer(.init(error: .inconsistentGroupProtocol, memberID: memberID)) }
        if !members.isEmpty {
            let others = members.filter { $0.id != memberID }
            let common = protocols.contains { candidate in others.allSatisfy { $0.protocols.contains { $0.name == candidate.name } } }
            guard self.protocolType == protocolType, common else {
                return answer(.init(error: .inconsistentGroupProtocol, memberID: memberID))
            }
        }
        let position: Int
        if memberID.isEmpty {
            memberCounter += 1
            let newID = "\(clientID)-\(generation)-\(memberCounter)-\(UInt32.random(in: 0...UInt32.max))"
            members.append(Member(id: newID, clientID: clientID, clientHost: clientHost, sessionTimeout: sessionTimeout, rebalanceTimeout: rebalanceTimeout, protocols: protocols, lastHeard: now))
            position = members.count - 1
        } else if let known = index(of: memberID) {
            position = known
            members[known].sessionTimeout = sessionTimeout
            members[known].rebalanceTimeout = rebalanceTimeout
            members[known].protocols = protocols
            members[known].lastHeard = now
        } else {
            return answer(.init(error: .unknownMemberID, memberID: memberID))
        }
        // A second join of one member before the first was answered replaces the first.
        members[position].pendingJoin?(.init(error: .rebalanceInProgress, memberID: members[position].id))
        members[position].pendingJoin = answer
        self.protocolType = protocolType
        if state != .preparingRebalance { prepareRebalance(now: now) }
        completeJoinIfReady(now: now)
    }

    func sync(memberID: String, generation: Int32, assignments: [(memberID: String, assignment: ByteBuffer)], now: NIODeadline, answer: @escaping (SyncAnswer) -> Void) {
        guard let position = index(of: memberID) else { return answer(.init(error: .unknownMemberID)) }
        guard generation == self.generation else { return answer(.init(error: .illegalGeneration)) }
        members[position].lastHeard = now
        switch state {
        case .empty, .preparingRebalance:
            answer(.init(error: .rebalanceInProgress))
        case .stable:
            answer(.init(error: .none, assignment: members[position].assignment))
        case .completingRebalance:
            members[position].pendingSync?(.init(error: .rebalanceInProgress))
            members[position].pendingSync = answer
            guard memberID == leader else { return }
            for index in members.indices {
                members[index].assignment = assignments.first { $0.memberID == members[index].id }?.assignment ?? ByteBuffer()
            }
            state = .stable
            for index in members.indices {
                if let pending = members[index].pendingSync {
                    members[index].pendingSync = nil
                    pending(.init(error: .none, assignment: members[index].assignment))
                }
            }
        }
    }

    func heartbeat(memberID: String, generation: Int32, now: NIODeadline) -> KafkaErrorCode {
        guard let position = index(of: memberID) else { return .unknownMemberID }
        guard generation == self.generation else { return .illegalGeneration }
        members[position].lastHeard = now
        return state == .preparingRebalance ? .rebalanceInProgress : .none
    }

    func leave(memberID: String, now: NIODeadline) -> KafkaErrorCode {
        guard let position = index(of: memberID) else { return .unknownMemberID }
        remove(at: position, now: now)
        return .none
    }

    /// Whether a commit of this member and generation may be stored now (`.none`), or why not.
    func mayCommit(memberID: String, generation: Int32, now: NIODeadline) -> KafkaErrorCode {
        // A commit from outside the group (an admin tool, a consumer with assigned partitions).
        if generation < 0, members.isEmpty { return .none }
        guard let position = index(of: memberID) else { return .unknownMemberID }
        guard generation == self.generation else { return .illegalGeneration }
        members[position].lastHeard = now
        return state == .completingRebalance ? .rebalanceInProgress : .none
    }

    func commit(topic: String, partition: Int32, offset: Int64, metadata: String?) {
        offsets[topic, default: [:]][partition] = (offset, metadata)
    }

    /// What DescribeGroups answers: the state as Apache Kafka names it, the protocol, and each
    /// member with its metadata and assignment.
    struct Description {
        let state: String
        let protocolType: String
        let protocolName: String
        let members: [(id: String, clientID: String, clientHost: String, metadata: ByteBuffer, assignment: ByteBuffer)]
    }

    var description: Description {
        let name = switch state {
        case .empty: "Empty"
        case .preparingRebalance: "PreparingRebalance"
        case .completingRebalance: "CompletingRebalance"
        case .stable: "Stable"
        }
        let chosen = protocolName ?? ""
        return Description(
            state: name, protocolType: protocolType ?? "consumer", protocolName: chosen,
            members: members.map { member in
                (member.id, member.clientID, member.clientHost,
                 member.protocols.first { $0.name == chosen }?.metadata ?? ByteBuffer(),
                 state == .stable ? member.assignment : ByteBuffer())
            })
    }

    // MARK: Time

    /// Removes members whose session ran out and completes a rebalance whose time is up; called
    /// periodically. A member waiting for its join or sync answer is not expired.
    func expire(now: NIODeadline) {
        var position = 0
        while position < members.count {
            let member = members[position]
            if member.pendingJoin == nil, member.pendingSync == nil, member.lastHeard + member.sessionTimeout < now {
                remove(at: position, now: now)
            } else {
                position += 1
            }
        }
        if state == .preparingRebalance, now >= rebalanceDeadline {
            members.removeAll { $0.pendingJoin == nil }
            completeJoin(now: now)
        }
    }

    // MARK: Rebalancing

    private func remove(at position: Int, now: NIODeadline) {
        let member = members.remove(at: position)
        member.pendingJoin?(.init(error: .unknownMemberID, memberID: member.id))
        member.pendingSync?(.init(error: .unknownMemberID))
        if leader == member.id { leader = nil }
        switch state {
        case .stable, .completingRebalance: prepareRebalance(now: now)
        case .preparingRebalance: completeJoinIfReady(now: now)
        case .empty: break
        }
    }

    private func prepareRebalance(now: NIODeadline) {
        state = .preparingRebalance
        let longest = members.map(\.rebalanceTimeout).max() ?? .zero
        rebalanceDeadline = now + longest
        // Whoever waits for an assignment of the generation that ends joins again.
        for index in members.indices {
            if let pending = members[index].pendingSync {
                members[index].pendingSync = nil
                pending(.init(error: .rebalanceInProgress))
            }
        }
        completeJoinIfReady(now: now)
    }

    private func completeJoinIfReady(now: NIODeadline) {
        guard state == .preparingRebalance, members.allSatisfy({ $0.pendingJoin != nil }) else { return }
        completeJoin(now: now)
    }

    private func completeJoin(now: NIODeadline) {
        generation += 1
        guard !members.isEmpty else {
            state = .empty
            leader = nil
            protocolName = nil
            protocolType = nil
            return
        }
        if leader == nil || index(of: leader!) == nil { leader = members[0].id }
        let leaderMember = members[index(of: leader!)!]
        let chosen = leaderMember.protocols.first { candidate in
            members.allSatisfy { $0.protocols.contains { $0.name == candidate.name } }
        }?.name ?? leaderMember.protocols[0].name
        protocolName = chosen
        state = .completingRebalance
        let everyone = members.map { member in
            (id: member.id, metadata: member.protocols.first { $0.name == chosen }?.metadata ?? ByteBuffer())
        }
        for index in members.indices {
            members[index].lastHeard = now
            guard let pending = members[index].pendingJoin else { continue }
            members[index].pendingJoin = nil
            let id = members[index].id
            pending(.init(
                error: .none, generation: generation, protocolName: chosen, leader: leader!, memberID: id,
                members: id == leader ? everyone : []))
        }
    }
}
