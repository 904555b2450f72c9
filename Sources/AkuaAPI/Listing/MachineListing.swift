/// Every machine `GET /machines` lists for some filters, all pages followed (fleet onboarding).
public struct MachineListing: Sendable {
    /// The machines in the API's order, each id once (several filter combinations may list one twice).
    public var machines: [Machine]
    /// Requests made.
    public var pages: Int
    /// A cursor the API handed out a second time: the listing stopped there instead of looping.
    public var repeatedCursor: String?
}

/// The filters of `GET /machines`, checked against the contract before any request is sent.
public struct MachineListQuery: Sendable, Equatable {
    /// `state=` values (each one listed separately); empty lists every state.
    public var states: [String]
    /// `cluster_id=` values (each one listed separately); empty lists every cluster.
    public var clusterIDs: [String]
    /// `limit=` (1-100); nil uses the API's default page size.
    public var pageSize: Int?

    public init(states: [String] = [], clusterIDs: [String] = [], pageSize: Int? = nil) {
        self.states = states
        self.clusterIDs = clusterIDs
        self.pageSize = pageSize
    }

    /// The first value the contract does not allow, as a sentence; nil when every value is valid.
    /// (`state`: one of the documented lifecycle states; `cluster_id`: 1-54 characters; `limit`: 1-100.)
    public var problem: String? {
        let documented = MachineLifecycleState.documented.map(\.rawValue)
        for state in states where !documented.contains(state) {
            return "state \"\(ErrorText.sanitize(state, limit: 40))\" is not one of \(documented.joined(separator: ", "))"
        }
        for cluster in clusterIDs {
            if let problem = Validation.identifier(cluster, name: "cluster id", maxLength: 54) { return problem }
        }
        if let pageSize, !(1...100).contains(pageSize) { return "limit must be 1-100, got \(pageSize)" }
        return nil
    }
}

extension AkuaClient {
    /// Lists every machine matching `query`: one listing per state × cluster combination, every page of
    /// each, stopping a listing when the API repeats a cursor. Throws `.invalidRequest` before sending
    /// anything when a filter value breaks the contract; `maxPages` bounds a listing that never ends.
    public func listAllMachines(_ query: MachineListQuery, maxPages: Int = 100_000) async throws(AkuaAPIError) -> MachineListing {
        if let problem = query.problem { throw .invalidRequest(status: nil, detail: problem) }
        let states: [MachineLifecycleState?] = query.states.isEmpty ? [nil] : query.states.map(MachineLifecycleState.init(rawValue:))
        let clusters: [String?] = query.clusterIDs.isEmpty ? [nil] : query.clusterIDs
        var listing = MachineListing(machines: [], pages: 0, repeatedCursor: nil)
        var seenIDs = Set<String>()
        for state in states {
            for cluster in clusters {
                var cursor: String?
                var seenCursors = Set<String>()
                repeat {
                    guard listing.pages < maxPages else {
                        throw .badResponse("the machine list did not end after \(maxPages) pages")
                    }
                    let page = try await listMachines(cursor: cursor, limit: query.pageSize, clusterID: cluster, state: state)
                    listing.pages += 1
                    for machine in page.data where seenIDs.insert(machine.id).inserted {
                        listing.machines.append(machine)
                    }
                    cursor = page.hasMore ? page.nextCursor : nil
                    if let next = cursor, !seenCursors.insert(next).inserted {
                        listing.repeatedCursor = next
                        cursor = nil
                    }
                } while cursor != nil
            }
        }
        return listing
    }
}
