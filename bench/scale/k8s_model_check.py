"""Decodes a manifest from `tinyforge workers manifest --kubernetes` into the official Kubernetes
Python client's typed V1Job model and lists fields the model does not know (a misspelt or
misplaced field would be dropped by the model, as the API server would reject or drop it).
Offline stand-in for `kubectl apply --dry-run=server` when no cluster is reachable.
Usage: python3 k8s_model_check.py JOB.yaml   (needs PyYAML and `pip install kubernetes`)."""
import json
import sys

import yaml
from kubernetes.client import ApiClient


def paths(node, prefix=""):
    out = set()
    if isinstance(node, dict):
        for key, value in node.items():
            out |= {prefix + "/" + key} | paths(value, prefix + "/" + key)
    elif isinstance(node, list):
        for item in node:
            out |= paths(item, prefix + "[]")
    return out


def lost_fields(doc):
    client = ApiClient()
    job = client.deserialize(json.dumps(doc), "V1Job", "application/json")
    return sorted(paths(doc) - paths(client.sanitize_for_serialization(job))), job


doc = yaml.safe_load(open(sys.argv[1]))
lost, job = lost_fields(doc)
spec = job.spec
print(f"{job.api_version} {job.kind} {job.metadata.name}: parallelism {spec.parallelism}, "
      f"completions {spec.completions}, backoffLimit {spec.backoff_limit}, "
      f"restartPolicy {spec.template.spec.restart_policy}")
print("fields unknown to the V1Job model:", lost or "none")
control = json.loads(json.dumps(doc))
container = control["spec"]["template"]["spec"]["containers"][0]
container["resourcez"] = container.pop("resources", {"limits": {"cpu": "1"}})
print("control (resources misspelt as resourcez) detected:", bool(lost_fields(control)[0]))
sys.exit(1 if lost else 0)
