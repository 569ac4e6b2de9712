#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust authentication for role postgres and a
# database named test, as the tests expect (internal/pgtest). On a machine where one already runs it only
# checks; on a fresh Debian machine, as root, it installs Debian's postgresql and starts its cluster.
set -euo pipefail

answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
has_test_db() { psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -Atqc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1; }

if answers; then
	if command -v psql >/dev/null && ! has_test_db; then
		psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -qc "CREATE DATABASE test" >/dev/null
	fi
	exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "error: no PostgreSQL answers on 127.0.0.1:5432 and this script can install one only as root on Debian;" >&2
	echo "       start one (trust auth, database test) or set ESIMGW_TEST_DATABASE_URL" >&2
	exit 1
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
	echo "installing Debian's postgresql for the store and campaign tests"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -1)
hba=/etc/postgresql/$version/main/pg_hba.conf
# Loopback connections as any role without a password, as on the developers' and CI machines.
if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
	sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
fi
pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster --skip-systemctl-redirect "$version" main reload
for _ in $(seq 1 60); do answers && break; sleep 0.5; done
if ! answers; then
	echo "error: PostgreSQL $version was started but does not answer on 127.0.0.1:5432" >&2
	exit 1
fi
has_test_db || psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -qc "CREATE DATABASE test" >/dev/null
echo "PostgreSQL $version answers on 127.0.0.1:5432"
