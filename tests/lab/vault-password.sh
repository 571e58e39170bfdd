#!/bin/sh
# Vault password client for this checkout (ansible.cfg's vault_password_file): prints the
# running lab's Vault password (written by `make lab-up`), so that `ansible` and
# `ansible-playbook` run from the checkout read inventories/lab/group_vars/all/vault.yml with no
# other setup. Without a lab it prints a placeholder, which opens nothing. Your own inventory's
# Vault password is given as usual (--vault-password-file, --ask-vault-pass, or
# ANSIBLE_VAULT_PASSWORD_FILE, which replaces this one).
file="$(dirname "$0")/../../inventories/lab/.vault-password"
if [ -r "$file" ]; then cat "$file"; else echo "no-lab-is-running"; fi
