"""deploy: the `taigimed deploy` commands that deploy/ (Argo, k8s) runs; staging smoke test."""
