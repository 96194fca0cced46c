"""rollout: the `taigimed deploy` commands that deploy/ (Argo, k8s) runs to roll a model out:
staging smoke test, synthetic canary load; the canary verdict, drift report and model fetch
they call live in monitor/ and registry/. (Named apart from the top-level deploy/, which holds
the infrastructure itself.)"""
