#!/usr/bin/env bash
# `make demo`: provisions the running lab with the collection's roles, runs the store's jobs
# (supplier delivery, reviews, monthly sales report) on sample data against it, and prints
# where to look. The lab stays up for you to explore; `make lab-down` removes it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
export ANSIBLE_VAULT_PASSWORD_FILE="$root/inventories/lab/.vault-password"   # the lab's secrets (lab-up)
start=$SECONDS
work="$root/build/demo"
mkdir -p "$work" && chmod 700 "$work"
inv=inventories/lab
host() { python3 -c "import yaml,sys; print(yaml.safe_load(open('$inv/hosts.yml'))['all']['hosts'][sys.argv[1]]['ansible_host'])" "$1"; }
web=$(host web); mail=$(host mail)

echo "=== 1/4 provision: webserver and reportsite roles on web, mailstack role on mail, healthcheck role on monitor"
ansible-playbook storeops.shop.site -i "$inv"

echo "=== 2/4 sample data in $work: two supplier deliveries (archives of TIFFs + descriptions, both numbered from 001) in the inbox, reviews, car sales, a month of daily order exports"
python tests/demo/make_sample_data.py "$work"
# The lab's CA files (the self-signed certificates the roles made); the secrets (the API
# token) come from the lab inventory's Vault file, as they would from a real inventory's.
python3 tests/lab/lab.py exec web -- cat /etc/storeops/catalog-tls.crt > "$work/catalog-ca.crt"
python3 tests/lab/lab.py exec mail -- cat /etc/ssl/storeops-mail/mail.crt > "$work/mail-ca.crt"
cat > "$work/vars.yml" <<VARS
storeops_catalog_url: https://$web
storeops_catalog_ca_path: $work/catalog-ca.crt
storeops_deliveries_dir: $work/deliveries
storeops_reviews_dir: $work/reviews
storeops_sales_url: https://$web/media/sales/last-month.json
storeops_sales_ca_path: $work/catalog-ca.crt
storeops_report_dir: $work/reports
storeops_mail_host: $mail
storeops_mail_ca_path: $work/mail-ca.crt
storeops_mail_to: [user@example.com]
# "Already sent" is recorded per mail host instance: a new lab gets the mails again.
storeops_mail_state_dir: $work/sent-mail/$(python3 tests/lab/lab.py exec mail -- cat /etc/machine-id)
VARS

# The store's sales service, stood in for by the web host's nginx: the month's JSON over HTTPS.
ansible web -i "$inv" -m ansible.builtin.file -a "path=/var/lib/storeops-catalog/media/sales state=directory mode=0755" >/dev/null
ansible web -i "$inv" -m ansible.builtin.copy -a "src=$work/car_sales.json dest=/var/lib/storeops-catalog/media/sales/last-month.json mode=0644" >/dev/null

# A month of the store's daily order exports (last month), for the monthly report.
month=$(python3 -c "import datetime; d = datetime.date.today().replace(day=1) - datetime.timedelta(days=1); print(d.strftime('%Y-%m'))")
python tests/demo/make_daily_csvs.py "$work/exports/$month" --year "${month%-*}" --month "$((10#${month#*-}))" | tail -n 1
cat >> "$work/vars.yml" <<VARS
storeops_monthly_month: "$month"
storeops_monthly_src: $work/exports/$month
storeops_monthly_build_dir: $work/reports/build
VARS

echo "=== 3/4 the store's jobs"
for job in catalog_update reviews sales_report monthly_report; do
  ansible-playbook "storeops.shop.$job" -i "$inv" -e @"$work/vars.yml"
done

echo "=== health of every host (storeops.shop.health; the monitor host's cron job mails alerts itself)"
# The demo shows the table and goes on: a busy lab machine can push a host's CPU over 80%.
ansible-playbook storeops.shop.health -i "$inv" -e storeops_health_fail_on_alert=false | tee "$work/health.txt"

echo "=== 4/4 a look through a real browser"
python tests/browser/browser_check.py storefront "https://$web/" --expect Apple --screenshot "$work/storefront.png"
python tests/browser/browser_check.py reportindex "https://$web:8443/" --expect final_report.html --screenshot "$work/reports-index.png"
MAIL_PASSWORD=lab-only-Passw0rd python tests/browser/browser_check.py roundcube "https://$mail/" --user user \
  --password-env MAIL_PASSWORD --expect "Sales summary for last month" --screenshot "$work/webmail.png"

# What the jobs did, read back from where it landed: the store front, the record of sent
# mail, the report site's index.
python3 tests/lab/lab.py exec web -- cat /etc/storeops/reportsite/tls.crt > "$work/reports-ca.crt"
done_summary=$(python3 - "$web" "$work" "$(grep -o 'sent-mail/[0-9a-f]*' "$work/vars.yml")" <<'PY'
import glob, json, os, re, ssl, sys, urllib.request
web, work, sent = sys.argv[1:4]
def get(url, ca):
    with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=ca), timeout=30) as answer:
        return answer.read().decode()
products = json.loads(get('https://%s/fruits/' % web, os.path.join(work, 'catalog-ca.crt')))
mails = [json.load(open(f)) for f in glob.glob(os.path.join(work, sent, '*.json'))]
index = get('https://%s:8443/' % web, os.path.join(work, 'reports-ca.crt'))
links = re.findall(r'<a href="\./([^"]+)"', index)
print('  uploaded         %d products on the store front' % len(products))
print('  mailed           %d messages: %s' % (len(mails), '; '.join(sorted(m['subject'] for m in mails))))
print('  published        %d public reports: %s (and the private sales summary)' % (len(links), ' '.join(links)))
PY
)

cat <<SUMMARY

=== storeops.shop demo: what is running and where to look
  store front      https://$web/            (self-signed: CA in $work/catalog-ca.crt)
  catalog API      https://$web/fruits/  https://$web/feedback/   (writes need the token: ansible-vault view inventories/lab/group_vars/all/vault.yml)
  sales service    https://$web/media/sales/last-month.json   (a stand-in for the store's own: sales_report fetches it)
  report site      https://$web:8443/       (the index of the public reports: each delivery's Processed Update, the monthly report under YYYY/mon/;
                   the sales summary is private: its expiring link is in the "Sales summary" mail)
  webmail          https://$mail/           user / lab-only-Passw0rd  (the report mails are in the inbox, and any health alerts the monitor host sent)
  reports          $work/reports/build/ (the monthly report)  $work/reports/processed-supplier-data.pdf  $work/reports/processed-supplier-data-2.pdf  $work/reports/cars.pdf
$done_summary
  deliveries       $work/deliveries/archive/ (processed, date-stamped)  $work/deliveries/rejected/ (refused)
  health           $work/health.txt  (the table of every host; the cron job on monitor mails user@example.com on alerts)
  screenshots      $work/storefront.png  $work/webmail.png  $work/reports-index.png
  hosts            $(python3 tests/lab/lab.py status | tr '\n' ';' | sed 's/;$//')
  ssh              ssh -i /var/lib/storeops-lab/ssh/id_ed25519 root@$web
  run again        make demo   (everything is idempotent: changed=0, no duplicate products or mails)
  clean up         make lab-down
SUMMARY
echo "demo finished in $((SECONDS - start)) s (after lab-up)"
