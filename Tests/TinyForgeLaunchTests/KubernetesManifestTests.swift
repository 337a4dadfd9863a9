import Foundation
import XCTest
@testable import TinyForgeLaunch

/// The worker Job manifest: fields, the Secret wiring (no password anywhere in the text), name
/// rules, option errors, a YAML parse (PyYAML, when present) and the CLI command.
final class KubernetesManifestTests: XCTestCase {
    let url = "postgres://tf@db.example:5432/tinyforge?run=fmnist"

    private func render(_ o: KubernetesWorkerOptions) throws -> String { try KubernetesManifest.render(o) }

    func testJobFieldsAndSecretWiring() throws {
        let text = try render(KubernetesWorkerOptions(storeURL: url, runName: "fmnist", workers: 3, image: "reg.example/tinyforge:1.0",
                                                      cpu: "2", memory: "4Gi", secretName: "tf-store"))
        for line in ["apiVersion: batch/v1", "kind: Job", "  name: \"tinyforge-workers-fmnist\"", "  parallelism: 3",
                     "  backoffLimit: 6", "      restartPolicy: OnFailure", "          image: \"reg.example/tinyforge:1.0\"",
                     "          args: [\"worker\", \"--store\", \"$(TINYFORGE_STORE)\", \"--run\", \"fmnist\", \"--threads\", \"2\"]",
                     "                secretKeyRef: {name: \"tf-store\", key: \"store-url\"}",
                     "                secretKeyRef: {name: \"tf-store\", key: \"password\"}",
                     "            - name: PGPASSWORD", "            - name: TINYFORGE_STORE",
                     "              value: \"kubernetes:$(POD_NAME)\"",
                     "            requests: {cpu: \"2\", memory: \"4Gi\"}", "            limits: {cpu: \"2\", memory: \"4Gi\"}"] {
            XCTAssertTrue(text.contains(line + "\n"), "missing line: \(line)\n\(text)")
        }
        XCTAssertFalse(text.contains("completions"), "work-queue Job: completions unset")
        XCTAssertTrue(text.contains("#   kubectl create secret generic tf-store '--from-literal=store-url=\(url)' --from-literal=password=\"$PGPASSWORD\""), text)
        // The URL appears only in the Secret recipe comment, never as a value the pods read.
        XCTAssertEqual(text.components(separatedBy: url).count - 1, 1)
    }

    func testThreadsFollowTheCPUShareUnlessGiven() throws {
        func args(_ o: KubernetesWorkerOptions) throws -> String {
            try render(o).split(separator: "\n").first { $0.contains("args:") }.map(String.init) ?? ""
        }
        XCTAssertTrue(try args(.init(storeURL: url, workers: 1, cpu: "1500m")).contains("\"--threads\", \"1\""))
        XCTAssertTrue(try args(.init(storeURL: url, workers: 1, cpu: "4", threads: 2)).contains("\"--threads\", \"2\""))
        XCTAssertFalse(try args(.init(storeURL: url, workers: 1)).contains("--threads"))
        XCTAssertFalse(try render(.init(storeURL: url, workers: 1)).contains("resources:"))
    }

    func testJobNamesAreDNSLabels() {
        XCTAssertEqual(KubernetesManifest.jobName(run: nil), "tinyforge-workers")
        XCTAssertEqual(KubernetesManifest.jobName(run: "Fashion MNIST_v2"), "tinyforge-workers-fashion-mnist-v2")
        XCTAssertEqual(KubernetesManifest.jobName(run: "__"), "tinyforge-workers")
        let long = KubernetesManifest.jobName(run: String(repeating: "a", count: 44) + "-" + String(repeating: "b", count: 30))
        XCTAssertLessThanOrEqual(long.count, 63)
        XCTAssertFalse(long.hasSuffix("-"))
        XCTAssertEqual(KubernetesManifest.labelValue("-run/é 1-"), "run---1")
    }

    func testBadOptionsNameTheFlagAndNeverEchoAPassword() {
        func option(_ o: KubernetesWorkerOptions) -> String? {
            do { _ = try render(o); return nil } catch let KubernetesManifestError.invalidOption(option, _, _) { return option } catch { return "\(error)" }
        }
        XCTAssertEqual(option(.init(storeURL: "/runs/a", workers: 2)), "--store")
        XCTAssertEqual(option(.init(storeURL: "postgres:///db", workers: 2)), "--store")
        XCTAssertEqual(option(.init(storeURL: url, workers: 0)), "--workers")
        XCTAssertEqual(option(.init(storeURL: url, workers: 2, image: "a b")), "--image")
        XCTAssertEqual(option(.init(storeURL: url, workers: 2, cpu: "two")), "--cpu")
        XCTAssertEqual(option(.init(storeURL: url, workers: 2, cpu: "0m")), "--cpu")
        XCTAssertEqual(option(.init(storeURL: url, workers: 2, memory: "4 GB")), "--memory")
        XCTAssertEqual(option(.init(storeURL: url, workers: 2, threads: 0)), "--threads")
        XCTAssertEqual(option(.init(storeURL: url, workers: 2, secretName: "TF_Store")), "--secret")
        XCTAssertEqual(option(.init(storeURL: url, runName: "", workers: 2)), "--run")
        let withPassword = KubernetesWorkerOptions(storeURL: "postgres://tf:hunter2@db:5432/tf", workers: 2)
        XCTAssertThrowsError(try render(withPassword)) {
            XCTAssertFalse("\($0)".contains("hunter2"))
            XCTAssertTrue("\($0)".contains("Secret"))
        }
    }

    /// The manifest parsed as YAML has the structure kubectl reads (skipped without PyYAML).
    func testManifestParsesAsYAML() throws {
        let python = SystemCommandRunner()
        guard python.find("python3") != nil, (try? python.run("python3", ["-c", "import yaml"]))?.status == 0 else {
            throw XCTSkip("python3 with PyYAML not available (apt-get install -y python3-yaml): YAML parse not checked")
        }
        let text = try render(KubernetesWorkerOptions(storeURL: url, workers: 4, cpu: "500m", memory: "1Gi"))
        let dir = try temporaryDirectory("yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("job.yaml")
        try Data(text.utf8).write(to: file)
        let out = try python.run("python3", ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", file.path])
        XCTAssertEqual(out.status, 0, out.stderr)
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(job["kind"] as? String, "Job")
        let spec = try XCTUnwrap(job["spec"] as? [String: Any])
        XCTAssertEqual(spec["parallelism"] as? Int, 4)
        let pod = try XCTUnwrap((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        XCTAssertEqual(pod["restartPolicy"] as? String, "OnFailure")
        let container = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first)
        XCTAssertEqual(container["command"] as? [String], ["tinyforge"])
        XCTAssertEqual(container["args"] as? [String], ["worker", "--store", "$(TINYFORGE_STORE)", "--threads", "1"])
        let env = try XCTUnwrap(container["env"] as? [[String: Any]])
        XCTAssertEqual(env.compactMap { $0["name"] as? String }, ["TINYFORGE_STORE", "PGPASSWORD", "POD_NAME", "TINYFORGE_WORKER_LABEL"])
        let password = (env[1]["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: String]
        XCTAssertEqual(password, ["name": "tinyforge-store", "key": "password"])
        let limits = (container["resources"] as? [String: Any])?["limits"] as? [String: String]
        XCTAssertEqual(limits, ["cpu": "500m", "memory": "1Gi"])
    }

    /// `tinyforge workers manifest --kubernetes` through the built binary.
    func testCommandPrintsTheManifestAndRefusesBadInput() throws {
        let candidates = [Bundle.main.bundleURL, Bundle(for: Self.self).bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("tinyforge") }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("tinyforge binary not found next to the tests (\(candidates.map(\.path))); run `swift build` first")
        }
        let runner = SystemCommandRunner()
        let good = try runner.run(binary.path, ["workers", "manifest", "--kubernetes", "--store", url, "--workers", "2", "--cpu", "1"])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertEqual(good.stdout, try render(KubernetesWorkerOptions(storeURL: url, workers: 2, cpu: "1")))
        let noFormat = try runner.run(binary.path, ["workers", "manifest", "--store", url, "--workers", "2"])
        XCTAssertEqual(noFormat.status, 2)
        XCTAssertTrue(noFormat.stderr.contains("--kubernetes"), noFormat.stderr)
        let secretURL = try runner.run(binary.path, ["workers", "manifest", "--kubernetes", "--store", "postgres://u:pw1234@h/db", "--workers", "2"])
        XCTAssertEqual(secretURL.status, 2)
        XCTAssertFalse((secretURL.stdout + secretURL.stderr).contains("pw1234"))
        XCTAssertTrue(secretURL.stderr.contains("--store"), secretURL.stderr)
    }
}
