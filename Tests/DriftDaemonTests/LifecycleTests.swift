import AkuaSimulator
import DriftStore
import DriftSystemd
import DriftTestSupport
import Foundation
import Testing

/// The systemd lifecycle of the real `akua-driftd run` process, as the service manager sees it on its
/// notify socket: READY=1; RELOADING=1 with MONOTONIC_USEC, then READY=1, around a SIGHUP; STOPPING=1 and
/// the 5 s grace of running checks on SIGTERM; WATCHDOG=1 while the scheduler keeps up, withheld while it
/// is stalled, resumed after (README, "systemd").
@Suite("akua-driftd run: systemd lifecycle", .serialized)
struct LifecycleTests {
    /// The grace `DaemonService` gives running checks on SIGTERM (README: "running checks get 5 s to finish").
    static let graceSeconds = 5.0

    @Test("SIGHUP: RELOADING=1 with MONOTONIC_USEC on CLOCK_MONOTONIC, then READY=1; also for a rejected file")
    func reload() async throws {
        let daemon = try await NotifiedDaemon(machines: ["mch_a", "mch_b"])
        do {
            let ready = try await daemon.start()
            #expect(ready.status?.hasPrefix("watching 2 machines") == true, "READY=1 status: \(ready.status ?? "none")")

            // A valid change: a third machine.
            try daemon.writeConfig(machines: ["mch_a", "mch_b", "mch_c"])
            try await expectReload(daemon, status: "watching 3 machines")

            // A rejected file still frames the SIGHUP (Type=notify-reload waits for READY=1), keeps the config.
            _ = try daemon.directory.write("config.toml", "[schedule]\ninterval = \"15 minutes\"\n")
            try await expectReload(daemon, status: "watching 3 machines")
            #expect(daemon.stderr.contains("reload rejected"), "the rejected reload is logged: \(daemon.stderr.suffix(2000))")
            #expect(daemon.process?.isRunning == true)

            let cursor = daemon.notify.count
            daemon.signal(SIGTERM)
            _ = try await daemon.next(after: cursor, "STOPPING=1") { $0.has("STOPPING=1") }
            let status = try await daemon.process?.waitForExit(timeout: .seconds(30))
            #expect(status == 0, "exit status after SIGTERM: \(daemon.stderr.suffix(2000))")
        } catch {
            await daemon.shutdown()
            throw error
        }
        await daemon.shutdown()
    }

    /// SIGHUP, then RELOADING=1 whose MONOTONIC_USEC lies between the signal and the datagram's arrival on
    /// the test's own CLOCK_MONOTONIC, then READY=1 with `status` and no other RELOADING=1 in between.
    private func expectReload(_ daemon: NotifiedDaemon, status: String) async throws {
        let cursor = daemon.notify.count
        let sentUs = NotifiedDaemon.monotonicNs() / 1000
        daemon.signal(SIGHUP)
        let reloading = try await daemon.next(after: cursor, "RELOADING=1") { $0.has("RELOADING=1") }
        let arrivedUs = reloading.message.at / 1000
        let text = reloading.message.value(of: "MONOTONIC_USEC")
        let usec = try #require(text.flatMap { UInt64($0) }, "RELOADING=1 without a numeric MONOTONIC_USEC: \(reloading.message.text)")
        #expect(usec >= sentUs && usec <= arrivedUs,
                "MONOTONIC_USEC=\(usec) is not between SIGHUP (\(sentUs)) and arrival (\(arrivedUs)) on CLOCK_MONOTONIC")
        #expect(arrivedUs - min(usec, arrivedUs) < 5_000_000, "MONOTONIC_USEC is more than 5 s before its arrival")
        let ready = try await daemon.next(after: reloading.index + 1, "READY=1 after RELOADING=1") { $0.has("READY=1") }
        #expect(ready.message.status?.hasPrefix(status) == true, "READY=1 status after reload: \(ready.message.status ?? "none")")
        let between = daemon.notify.all()[(reloading.index + 1)..<ready.index]
        #expect(!between.contains { $0.has("RELOADING=1") || $0.has("READY=1") }, "one RELOADING=1 and one READY=1 per SIGHUP")
        #expect(!daemon.notify.all()[cursor..<reloading.index].contains { $0.has("READY=1") }, "READY=1 before RELOADING=1")
    }

    @Test("SIGTERM: STOPPING=1, hanging checks get the 5 s grace, then the process exits")
    func stopGraceWithHangingChecks() async throws {
        let machines = ["mch_a", "mch_b", "mch_c"]
        let daemon = try await NotifiedDaemon(machines: machines, faults: SimulatorFaults(hangRate: 1), timeout: "60s")
        do {
            try await daemon.start()
            try await eventually(timeout: .seconds(30), "every machine's check hangs in the simulator") {
                daemon.simulator.control.stats().faultsByKind["hang", default: 0] >= machines.count
            }
            let cursor = daemon.notify.count
            let sent = NotifiedDaemon.monotonicNs()
            daemon.signal(SIGTERM)
            let stopping = try await daemon.next(after: cursor, "STOPPING=1") { $0.has("STOPPING=1") }
            let process = try #require(daemon.process)
            let status = try await process.waitForExit(timeout: .seconds(Self.graceSeconds + 30))
            let exited = NotifiedDaemon.monotonicNs()
            let afterStopping = stopping.message.seconds(to: exited)
            let afterSignal = Double(exited - sent) / 1e9
            #expect(status == 0, "exit status: \(daemon.stderr.suffix(2000))")
            // The grace starts once STOPPING=1 is sent; the exit is seen within the 50 ms poll of waitForExit.
            #expect(afterStopping >= Self.graceSeconds - 0.2, "exited \(afterStopping) s after STOPPING=1: the running checks did not get their grace")
            #expect(afterSignal <= Self.graceSeconds + 3, "exited \(afterSignal) s after SIGTERM: more than the grace plus 3 s")
        } catch {
            await daemon.shutdown()
            throw error
        }
        await daemon.shutdown()
    }

    @Test("SIGTERM: a check that ends within the grace is recorded, and the process exits as soon as it has")
    func stopWaitsForRunningCheck() async throws {
        let latencyMs = 2_000
        let daemon = try await NotifiedDaemon(machines: ["mch_slow"], faults: SimulatorFaults(latencyMs: latencyMs), interval: "1h")
        do {
            try await daemon.start()
            try await eventually(timeout: .seconds(30), "the check of mch_slow reached the simulator") {
                daemon.simulator.control.stats().requestsTotal >= 1
            }
            let arrived = NotifiedDaemon.monotonicNs()
            #expect(daemon.simulator.control.stats().createsTotal == 0, "the check must still be running at SIGTERM")
            let cursor = daemon.notify.count
            daemon.signal(SIGTERM)
            _ = try await daemon.next(after: cursor, "STOPPING=1") { $0.has("STOPPING=1") }
            let process = try #require(daemon.process)
            let status = try await process.waitForExit(timeout: .seconds(Self.graceSeconds + 30))
            let afterArrival = Double(NotifiedDaemon.monotonicNs() - arrived) / 1e9
            #expect(status == 0, "exit status: \(daemon.stderr.suffix(2000))")
            #expect(daemon.simulator.control.stats().createsTotal == 1, "the running check was not answered")
            #expect(afterArrival >= Double(latencyMs) / 1000 - 0.1, "exited \(afterArrival) s after the request arrived, before its answer")
            #expect(afterArrival < Self.graceSeconds - 0.5, "exited \(afterArrival) s after the request arrived: it waited out the grace instead of the check")
            let database = try AppDatabase.openReadOnly(path: daemon.statePath)
            let record = try #require(try database.machine(id: "mch_slow"))
            #expect(record.report != nil && record.lastCheckedAt != nil, "the check that finished during the grace was not recorded")
            #expect(record.state == .inSync)
        } catch {
            await daemon.shutdown()
            throw error
        }
        await daemon.shutdown()
    }

    @Test("WATCHDOG=1 every half WATCHDOG_USEC while healthy, withheld while the scheduler is stalled, resumed after")
    func watchdog() async throws {
        let watchdogSeconds = 2.0
        let daemon = try await NotifiedDaemon(machines: ["mch_a", "mch_b"])
        let stallFile = daemon.directory.file("stall")
        do {
            let ready = try await daemon.start(environment: [
                "WATCHDOG_USEC": String(Int(watchdogSeconds * 1_000_000)), "AKUA_DRIFTD_TEST_STALL_FILE": stallFile,
            ])
            func pings(from index: Int) -> [NotifyListener.Message] {
                daemon.notify.messages(from: index).filter { $0.has("WATCHDOG=1") }
            }
            let readyIndex = try #require(daemon.notify.all().lastIndex { $0.has("READY=1") })

            // Healthy: pings, never further apart than WATCHDOG_USEC (systemd would kill the service).
            try await eventually(timeout: .seconds(30), "four watchdog pings after READY=1") { pings(from: readyIndex).count >= 4 }
            let healthy = pings(from: readyIndex)
            let firstGap = healthy[0].at >= ready.at ? Double(healthy[0].at - ready.at) / 1e9 : 0
            #expect(firstGap < watchdogSeconds, "first ping \(firstGap) s after READY=1")
            for (a, b) in zip(healthy, healthy.dropFirst()) {
                let gap = Double(b.at - a.at) / 1e9
                #expect(gap < watchdogSeconds, "healthy pings \(gap) s apart, WATCHDOG_USEC is \(watchdogSeconds) s")
            }

            // Stalled: the engine's queue blocks (test hook), so no ping for twice WATCHDOG_USEC.
            let cursor = daemon.notify.count
            #expect(FileManager.default.createFile(atPath: stallFile, contents: nil))
            let stalled = try await daemon.next(after: cursor, "the stall hook blocking the scheduler") {
                $0.has("X_AKUA_DRIFTD_TEST_STALL=stalled")
            }
            let stallSeconds = 2 * watchdogSeconds
            try await Task.sleep(for: .milliseconds(Int(stallSeconds * 1000)))  // the length of the stall, not a wait for an event
            let releaseCursor = daemon.notify.count
            try FileManager.default.removeItem(atPath: stallFile)
            // A ping decided just before the stall began may arrive just after the hook's notice.
            let withheldFrom = stalled.message.at + 300_000_000
            let during = daemon.notify.messages(from: stalled.index).prefix(releaseCursor - stalled.index)
                .filter { $0.has("WATCHDOG=1") && $0.at > withheldFrom }
            #expect(during.isEmpty, "\(during.count) watchdog pings while the scheduler was stalled for \(stallSeconds) s")

            // Resumed: pings again, regular.
            let resumed = try await daemon.next(after: releaseCursor, "the stall hook releasing the scheduler") {
                $0.has("X_AKUA_DRIFTD_TEST_STALL=resumed")
            }
            let firstAfter = try await daemon.next(after: resumed.index, "WATCHDOG=1 after the stall") { $0.has("WATCHDOG=1") }
            #expect(resumed.message.seconds(to: firstAfter.message.at) < 2 * watchdogSeconds,
                    "first ping \(resumed.message.seconds(to: firstAfter.message.at)) s after the stall ended")
            try await eventually(timeout: .seconds(30), "three more watchdog pings after the stall") {
                pings(from: firstAfter.index).count >= 3
            }
            let after = pings(from: firstAfter.index)
            for (a, b) in zip(after, after.dropFirst()) {
                let gap = Double(b.at - a.at) / 1e9
                #expect(gap < watchdogSeconds, "pings after the stall \(gap) s apart")
            }
            #expect(daemon.process?.isRunning == true)
        } catch {
            try? FileManager.default.removeItem(atPath: stallFile)
            await daemon.shutdown()
            throw error
        }
        await daemon.shutdown()
    }
}
