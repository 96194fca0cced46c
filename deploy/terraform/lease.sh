#!/usr/bin/env bash
# The GPU node's Chameleon lease: how long it has left, and its renewal, scripted so the
# weekly CronWorkflow never finds the node gone. Run from a machine with the Chameleon
# credentials (clouds.yaml entry chi_tacc), e.g. from cron every 6 hours:
#   MAILTO=you@example.org
#   0 */6 * * *  cd /path/to/repo && OS_CLOUD=chi_tacc deploy/terraform/lease.sh renew taigimed-gpu
#
#   lease.sh status [LEASE]   end date and hours left; exit 3 when fewer than WARN_HOURS
#   lease.sh renew  [LEASE]   prolong by PROLONG when fewer than RENEW_HOURS are left; exit 3
#                             (with the reason) when Chameleon refuses or time is short
# Alert: any exit 3 prints "LEASE ALERT: ..." on stderr (cron mails it); with
# LEASE_ALERT_WEBHOOK set, the same text is also POSTed there as JSON {"text": ...}.
# Settings (environment): WARN_HOURS=48, RENEW_HOURS=72, PROLONG=2d (Blazar's --prolong-for).
set -euo pipefail
cmd=${1:?usage: lease.sh status|renew [LEASE]}
lease=${2:-taigimed-gpu}
warn_hours=${WARN_HOURS:-48}
renew_hours=${RENEW_HOURS:-72}
prolong=${PROLONG:-2d}

alert() {
  echo "LEASE ALERT: $*" >&2
  if [ -n "${LEASE_ALERT_WEBHOOK:-}" ]; then
    python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "LEASE ALERT: $*" |
      curl -fsS -m 20 -H 'Content-Type: application/json' -d @- "$LEASE_ALERT_WEBHOOK" >/dev/null ||
      echo "could not post the alert to LEASE_ALERT_WEBHOOK" >&2
  fi
}

hours_left() {
  local end
  end=$(openstack reservation lease show "$lease" -f value -c end_date)
  echo $(( ($(date -u -d "${end%%.*}" +%s) - $(date -u +%s)) / 3600 ))
}

case $cmd in
  status)
    left=$(hours_left)
    echo "lease $lease ends in ${left} h ($(openstack reservation lease show "$lease" -f value -c end_date) UTC)"
    if [ "$left" -lt "$warn_hours" ]; then alert "$lease ends in ${left} h"; exit 3; fi
    ;;
  renew)
    left=$(hours_left)
    if [ "$left" -ge "$renew_hours" ]; then echo "lease $lease: ${left} h left, no renewal needed"; exit 0; fi
    if ! out=$(openstack reservation lease update --prolong-for "$prolong" "$lease" 2>&1); then
      alert "renewing $lease by $prolong failed (${left} h left): $out"
      exit 3
    fi
    left=$(hours_left)
    echo "lease $lease renewed: ${left} h left"
    if [ "$left" -lt "$warn_hours" ]; then alert "$lease still ends in ${left} h after renewal"; exit 3; fi
    ;;
  *)
    echo "usage: lease.sh status|renew [LEASE]" >&2
    exit 2
    ;;
esac
