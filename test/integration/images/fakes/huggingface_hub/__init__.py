"""Stand-in for huggingface_hub in the vLLM stand-in image: nothing can be downloaded in the test, so
snapshot_download lays out the Hugging Face cache as the real one does (hub/models--org--name with
refs/<revision> and snapshots/<commit>/) with a config.json naming the repository, and returns the
snapshot's path. HF_HUB_OFFLINE=1 makes it fail unless the snapshot is already there, like the real one.
"""
import hashlib
import json
import os


def snapshot_download(repo_id, revision=None, **_kwargs):
    revision = revision or "main"
    home = os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface"))
    repo = os.path.join(home, "hub", "models--" + repo_id.replace("/", "--"))
    commit = hashlib.sha1(("%s@%s" % (repo_id, revision)).encode()).hexdigest()
    snapshot = os.path.join(repo, "snapshots", commit)
    if os.environ.get("HF_HUB_OFFLINE") == "1" and not os.path.isdir(snapshot):
        raise OSError("HF_HUB_OFFLINE=1 and %s@%s is not in the cache" % (repo_id, revision))
    os.makedirs(snapshot, exist_ok=True)
    os.makedirs(os.path.join(repo, "refs"), exist_ok=True)
    with open(os.path.join(repo, "refs", revision), "w") as f:
        f.write(commit)
    with open(os.path.join(snapshot, "config.json"), "w") as f:
        json.dump({"_name_or_path": repo_id}, f)
    return snapshot
