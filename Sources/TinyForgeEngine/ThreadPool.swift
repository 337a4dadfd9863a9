#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed set of worker threads that run parallel regions for the layers.
///
/// Why not Dispatch: training issues a few hundred short parallel regions per batch, and the
/// kernels need a *stable share index* to pick their gradient buffer, with a *static* split of
/// the work so that float reductions happen in the same order every run (same seed ⇒
/// bit-identical weights). The calling thread takes part as thread 0.
///
/// `parallelFor` splits the work into `shareCount` fixed shares (`stageWeights.count` = 5 per thread) that threads
/// *claim* one by one: the split and the reduction order depend only on the count and
/// `shareCount`, not on which thread ran a share, so results stay deterministic, while a thread
/// that the OS deschedules (the machine is shared) no longer holds the others up: its shares
/// are taken by whoever is running, and a worker that wakes after all shares are claimed skips
/// the region instead of being waited for.
/// There is no global pool: create one and pass it to the layers.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    /// Shares per `parallelFor` (1 with one thread, else `stageWeights.count` (5) · threadCount).
    public let shareCount: Int
    /// One scratch arena per share (a share runs on one thread at a time), reused by every
    /// kernel of that share; `workspaces[0]` is also the caller's arena outside regions.
    public let workspaces: [Workspace]
    private let shared: Shared
    /// Relative share sizes, largest first, each used once per thread: the threads claim shares
    /// in order, so the last ones to be claimed are the small ones and the threads finish a
    /// region within about one small share of each other (64 images, 2 threads:
    /// 12, 12, 8, 8, 6, 6, 4, 4, 2, 2).
    static let stageWeights = [6, 4, 3, 2, 1]
    /// `TINYFORGE_EQUAL_SHARES=1`: equal shares instead (benchmark comparison only).
    static let equalShares: Bool = parsedEnvironment("TINYFORGE_EQUAL_SHARES") { v in
        guard v == "0" || v == "1" else { throw EngineError("TINYFORGE_EQUAL_SHARES=\(v) is not 0 or 1; set 1 for equal shares, or unset it") }
        return v == "1"
    } ?? false
    /// Prefix sums of the share weights (`shareCount + 1` entries).
    private let cumulativeWeights: [Int]
    /// `TINYFORGE_SPIN` if set (a count ≥ 0), else 200 rounds (≈ 0.1–0.2 ms of polling; as fast
    /// as 2000 in `tinyforge-engine-bench`, and bounds what a waiting thread takes from others).
    public static let defaultSpinRounds: Int = parsedEnvironment("TINYFORGE_SPIN", spinRounds(forEnvironmentValue:)) ?? 200

    /// The polling rounds a `TINYFORGE_SPIN` value asks for; anything but a count ≥ 0 is an error
    /// that names the variable and the fix (a typo must not silently become the default).
    public static func spinRounds(forEnvironmentValue v: String) throws -> Int {
        guard let n = Int(v), n >= 0 else {
            throw EngineError("TINYFORGE_SPIN=\(v) is not a count ≥ 0; give the sched_yield rounds to poll (0 sleeps at once), or unset it for 200")
        }
        return n
    }
    private var workers: [pthread_t] = []

    /// - Parameters:
    ///   - threads: total threads including the caller (≥ 1). Default 2.
    ///   - spinRounds: how many `sched_yield` rounds a waiting thread polls for the next region
    ///     (worker) or for the end of one (caller) before it sleeps; 0 sleeps at once.
    public init(threads: Int = 2, spinRounds: Int = ThreadPool.defaultSpinRounds) {
        threadCount = max(1, threads)
        shareCount = threadCount == 1 ? 1 : ThreadPool.stageWeights.count * threadCount
        var cum = [0]
        if threadCount > 1 {
            for w in ThreadPool.stageWeights { for _ in 0..<threadCount { cum.append(cum.last! + w) } }
        }
        cumulativeWeights = cum
        workspaces = (0..<shareCount).map { _ in Workspace() }
        shared = Shared(spinRounds: spinRounds)
        for t in 1..<threadCount {
            // The worker owns a strong reference to the shared state only, never to the pool,
            // so dropping the pool runs deinit, which stops and joins the workers.
            let ctx = Unmanaged.passRetained(WorkerContext(shared: shared, index: t)).toOpaque()
            #if canImport(Glibc)
            var tid = pthread_t()
            pthread_create(&tid, nil, { raw in
                let ctx = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                ctx.shared.workerLoop(ctx.index)
                return nil
            }, ctx)
            workers.append(tid)
            #else
            var tid: pthread_t?
            pthread_create(&tid, nil, { raw in
                let ctx = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                ctx.shared.workerLoop(ctx.index)
                return nil
            }, ctx)
            workers.append(tid!)
            #endif
        }
    }

    deinit {
        shared.stop()
        for t in workers { pthread_join(t, nil) }
    }

    private final class WorkerContext {
        let shared: Shared
        let index: Int
        init(shared: Shared, index: Int) { self.shared = shared; self.index = index }
    }

    /// Mutex/condition state shared by the caller and the workers.
    private final class Shared: @unchecked Sendable {
        let mutex: UnsafeMutablePointer<pthread_mutex_t>
        let wake: UnsafeMutablePointer<pthread_cond_t>
        let done: UnsafeMutablePointer<pthread_cond_t>
        var generation = 0
        /// Workers inside the current job's body.
        var running = 0
        /// Workers that took the current job (every worker must, for `run`).
        var joined = 0
        /// Late workers may still join the current job.
        var open = false
        var stopping = false
        var job: ((Int) -> Void)?
        /// Next unclaimed share and share count of a `runShares` job.
        var nextShare = 0
        var shareTotal = 0

        deinit {
            pthread_mutex_destroy(mutex); pthread_cond_destroy(wake); pthread_cond_destroy(done)
            mutex.deallocate(); wake.deallocate(); done.deallocate()
        }

        func stop() {
            pthread_mutex_lock(mutex)
            stopping = true
            publishedGeneration.add(1, ordering: .releasing)   // ends any worker's polling
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }

        /// Mirrors of `generation` and `running` that spinning threads read without the lock.
        let publishedGeneration = Atomic<Int>(0)
        let activeWorkers = Atomic<Int>(0)
        /// `sched_yield` rounds a waiting thread spins before sleeping on a condition variable.
        let spinRounds: Int

        init(spinRounds: Int) {
            self.spinRounds = spinRounds
            mutex = .allocate(capacity: 1); pthread_mutex_init(mutex, nil)
            wake = .allocate(capacity: 1); pthread_cond_init(wake, nil)
            done = .allocate(capacity: 1); pthread_cond_init(done, nil)
        }

        func workerLoop(_ index: Int) {
            var seen = 0
            while true {
                // A step issues a few hundred regions a few hundred µs apart: a worker asleep on
                // the condition variable wakes tens of µs late every time, so it first polls for
                // the next region, yielding the core on each round in case anyone else wants it.
                var rounds = 0
                while rounds < spinRounds && publishedGeneration.load(ordering: .acquiring) == seen {
                    sched_yield(); rounds += 1
                }
                pthread_mutex_lock(mutex)
                while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
                if stopping { pthread_mutex_unlock(mutex); return }
                seen = generation
                if !open { pthread_mutex_unlock(mutex); continue }   // that region ended without us
                joined += 1; running += 1
                activeWorkers.add(1, ordering: .relaxed)
                var body = job
                pthread_mutex_unlock(mutex)
                body!(index)
                body = nil   // drop our reference before signalling: the job must not escape
                _ = body
                pthread_mutex_lock(mutex)
                running -= 1
                activeWorkers.subtract(1, ordering: .releasing)
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }

        /// Publishes `body`, runs it on the caller, then waits: for every worker to have run it
        /// (`all`), or only for the workers already inside it (late ones skip the job).
        func publish(_ body: @escaping (Int) -> Void, waitForAll workers: Int?) {
            pthread_mutex_lock(mutex)
            job = body; joined = 0; running = 0; open = true
            generation &+= 1
            publishedGeneration.store(generation, ordering: .releasing)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
            body(0)
            pthread_mutex_lock(mutex)
            if let w = workers { while joined < w { pthread_cond_wait(done, mutex) } }
            open = false
            if running > 0 {
                // Poll for the workers still inside the region before sleeping (see workerLoop).
                pthread_mutex_unlock(mutex)
                var rounds = 0
                while rounds < spinRounds && activeWorkers.load(ordering: .acquiring) > 0 { sched_yield(); rounds += 1 }
                pthread_mutex_lock(mutex)
            }
            while running > 0 { pthread_cond_wait(done, mutex) }
            job = nil
            pthread_mutex_unlock(mutex)
        }

        func run(_ body: (Int) -> Void, threads: Int) {
            withoutActuallyEscaping(body) { publish($0, waitForAll: threads - 1) }
        }

        /// Runs `body(share)` for every share in `0..<shares`, each exactly once, on whichever
        /// threads claim them first.
        func runShares(_ shares: Int, _ body: (Int) -> Void) {
            withoutActuallyEscaping(body) { escaping in
                nextShare = 0; shareTotal = shares   // no worker is running: safe without the lock
                publish({ [unowned self] _ in
                    while true {
                        pthread_mutex_lock(self.mutex)
                        let s = self.nextShare
                        self.nextShare += 1
                        pthread_mutex_unlock(self.mutex)
                        if s >= self.shareTotal { return }
                        escaping(s)
                    }
                }, waitForAll: nil)
            }
        }
    }

    /// Runs `body(thread)` once on every thread (`thread` in `0..<threadCount`) and returns when
    /// all have finished. Not reentrant: do not call `run` from inside `body`.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 { body(0); return }
        shared.run(body, threads: threadCount)
    }

    /// Calls `body(range, share)` once for every non-empty share of `0..<count` (share i is
    /// `shareRange(i, of: count)`), shares claimed dynamically by the threads. Use `share` to
    /// index per-share reduction buffers and `workspaces[share]`: no two threads ever run the
    /// same share, and summing per-share results in share order is deterministic.
    public func parallelFor(_ count: Int, _ body: (Range<Int>, Int) -> Void) {
        let t = shareCount
        if threadCount == 1 || count <= 1 { if count > 0 { body(0..<count, 0) }; return }
        shared.runShares(t) { share in
            let r = shareRange(share, of: count)
            if !r.isEmpty { body(r, share) }
        }
    }

    /// The part of `0..<count` that `parallelFor` hands to `share`: `[s·count/S, (s+1)·count/S)`
    /// (all of it for share 0 when the loop runs inline).
    public func shareRange(_ share: Int, of count: Int) -> Range<Int> {
        if threadCount == 1 || count <= 1 { return share == 0 ? 0..<count : 0..<0 }
        if ThreadPool.equalShares { return (share * count / shareCount)..<((share + 1) * count / shareCount) }
        let total = cumulativeWeights.last!
        return (cumulativeWeights[share] * count / total)..<(cumulativeWeights[share + 1] * count / total)
    }
}

/// Growable, 64-byte aligned scratch buffers of one thread, addressed by slot number so that
/// kernels nested inside one another (im2col buffer, GEMM packing, gradient chunk) do not
/// clobber each other. Slots: see `Workspace.Slot`.
public final class Workspace: @unchecked Sendable {
    public enum Slot: Int, CaseIterable { case pack = 0, columns, chunk, chunk2, reduce, reduce2 }
    private var buffers: [UnsafeMutablePointer<Float>?] = Array(repeating: nil, count: Slot.allCases.count)
    private var sizes: [Int] = Array(repeating: 0, count: Slot.allCases.count)

    public init() {}
    deinit { for b in buffers { b.map { UnsafeMutableRawPointer($0).deallocate() } } }

    /// At least `count` floats for `slot`; contents are unspecified (not zeroed).
    public func floats(_ slot: Slot, _ count: Int) -> UnsafeMutablePointer<Float> {
        let i = slot.rawValue
        if sizes[i] < count {
            buffers[i].map { UnsafeMutableRawPointer($0).deallocate() }
            let n = max(count, 1024)
            buffers[i] = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: n)
            sizes[i] = n
        }
        return buffers[i]!
    }
}

/// `parse(value)` of an environment variable when it is set, nil when not. The engine's
/// overrides (`TINYFORGE_GEMM`, `TINYFORGE_SPIN`, `TINYFORGE_EQUAL_SHARES`) are read once per
/// process; a bad value stops it with the parser's message, which names the variable and the fix.
func parsedEnvironment<T>(_ name: String, _ parse: (String) throws -> T) -> T? {
    guard let raw = getenv(name) else { return nil }
    do { return try parse(String(cString: raw)) } catch { fatalError("\(error)") }
}
