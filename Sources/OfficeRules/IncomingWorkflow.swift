import Foundation
import EdXML
import GovCore

/// Where an incoming document (văn bản đến) stands in its agency (Decree 30/2020 Art. 21–25).
public enum IncomingState: String, Sendable, CaseIterable, Codable {
    /// Came from the hub (01 sent); the clerk has not checked it yet.
    case arrived
    /// The clerk refused it (02 sent, with the reason).
    case rejected
    /// The clerk accepted and registered it with an incoming number (03 sent).
    case registered
    /// A leader assigned a lead unit (04 sent).
    case assigned
    /// Someone is working on it (05 sent).
    case processing
    /// Finished (06 sent).
    case done
}

/// What a leader writes on the "phiếu giải quyết văn bản đến": the lead unit, the co-ordinating units,
/// a deadline per unit, and the opinion.
public struct IncomingAssignment: Sendable, Equatable, Codable {
    /// The unit that leads the handling (đơn vị chủ trì).
    public var leadUnit: String
    /// Units that co-ordinate (đơn vị phối hợp); never the lead unit.
    public var coordinatingUnits: [String]
    /// The deadline of each unit, lead and co-ordinating; a unit without one has none.
    public var deadlines: [String: CivilDate]
    /// The leader's instruction.
    public var opinion: String

    /// An assignment.
    public init(leadUnit: String, coordinatingUnits: [String] = [], deadlines: [String: CivilDate] = [:], opinion: String) {
        self.leadUnit = leadUnit
        self.coordinatingUnits = coordinatingUnits
        self.deadlines = deadlines
        self.opinion = opinion
    }
}

/// A step of an incoming document's handling.
public enum IncomingStep: Sendable, Equatable {
    /// The clerk refuses the document, with the reason the sender reads.
    case reject(reason: String)
    /// The clerk accepts and registers it.
    case accept
    /// A leader assigns it.
    case assign(IncomingAssignment)
    /// The assigned unit or specialist starts work.
    case startProcessing
    /// The handling is finished.
    case finish
}

/// The rules of an incoming document's steps: which step is allowed in which state, who may take
/// it, what it must carry, and which edXML status goes back to the sender through the hub.
public enum IncomingWorkflow {
    /// The state after `step` and the status to send, or the reason it is refused:
    /// `incoming_step_not_allowed` (409) in the wrong state, `incoming_role_missing` (403) for a user
    /// without the step's role, `reject_reason_required`, `assignment_lead_unit_required`,
    /// `assignment_lead_unit_repeated`, `deadline_before_arrival` (400) for a bad step.
    public static func apply(_ step: IncomingStep, in state: IncomingState, by roles: Set<Role>,
                             arrival: CivilDate) throws(GovError) -> (state: IncomingState, status: StatusCode) {
        let (from, to, status, allowed) = rule(step)
        guard from.contains(state) else {
            throw GovError("incoming_step_not_allowed", .conflict,
                           vi: "Văn bản đang ở trạng thái \"\(state.rawValue)\", không thực hiện được bước này.",
                           en: "The document is \(state.rawValue); this step is not possible now.")
        }
        guard !roles.isDisjoint(with: allowed) else {
            throw GovError("incoming_role_missing", .forbidden,
                           vi: "Bước này dành cho: \(allowed.map(\.rawValue).sorted().joined(separator: ", ")).",
                           en: "This step is for: \(allowed.map(\.rawValue).sorted().joined(separator: ", ")).")
        }
        try check(step, arrival: arrival)
        return (to, status)
    }

    private static func rule(_ step: IncomingStep)
        -> (from: Set<IncomingState>, to: IncomingState, status: StatusCode, roles: Set<Role>) {
        switch step {
        case .reject: ([.arrived], .rejected, .refused, [.clerk])
        case .accept: ([.arrived], .registered, .accepted, [.clerk])
        // A leader may assign again (a new lead unit) until work starts.
        case .assign: ([.registered, .assigned], .assigned, .assigned, [.leader])
        case .startProcessing: ([.assigned], .processing, .processing, [.specialist, .leader])
        case .finish: ([.assigned, .processing], .done, .done, [.specialist, .leader, .clerk])
        }
    }

    private static func check(_ step: IncomingStep, arrival: CivilDate) throws(GovError) {
        switch step {
        case .reject(let reason):
            guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw GovError("reject_reason_required", .invalid,
                               vi: "Ghi lý do từ chối: cơ quan gửi sẽ nhận được lý do này.",
                               en: "Give the reason for refusing: the sender receives it.")
            }
        case .assign(let assignment):
            let lead = assignment.leadUnit.trimmingCharacters(in: .whitespaces)
            guard !lead.isEmpty else {
                throw GovError("assignment_lead_unit_required", .invalid,
                               vi: "Chọn đơn vị chủ trì.", en: "Choose the lead unit.")
            }
            guard !assignment.coordinatingUnits.contains(lead) else {
                throw GovError("assignment_lead_unit_repeated", .invalid,
                               vi: "Đơn vị chủ trì không đồng thời là đơn vị phối hợp.",
                               en: "The lead unit cannot also be a co-ordinating unit.")
            }
            if let early = assignment.deadlines.first(where: { $0.value < arrival }) {
                throw GovError("deadline_before_arrival", .invalid,
                               vi: "Hạn xử lý của \(early.key) (\(early.value)) trước ngày đến (\(arrival)).",
                               en: "The deadline of \(early.key) (\(early.value)) is before the arrival date (\(arrival)).")
            }
        case .accept, .startProcessing, .finish:
            break
        }
    }
}
