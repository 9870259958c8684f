# openapi.test.sh: cgi/openapi.yaml describes exactly the routes of api-v1's table, and every reference in it resolves.
. "$(dirname "$0")/../lib/tap.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
doc=$root/cgi/openapi.yaml

check "the document is OpenAPI 3.1" \
	python3 -c 'import sys, yaml; sys.exit(yaml.safe_load(open(sys.argv[1]))["openapi"] != "3.1.0")' "$doc"

# "METHOD /path" for each line of the route table, {} named as the document names it.
table=$(sed -n 's/^\t{"\([A-Z]*\)", "\([^"]*\)", v1_.*/\1 \/\2/p' "$root/cgi/v1/main.c" |
	sed 's|users/{}|users/{name}|; s|bookings/{}|bookings/{sessionId}|; s|webhooks/{}|webhooks/{id}|; s|deliveries/{}|deliveries/{id}|' | sort)
described=$(python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for p, ops in d["paths"].items():
    for m in ops:
        print(m.upper(), p)' "$doc" | sort)
check "the route table has the eighteen endpoints" test "$(wc -l <<<"$table")" -eq 18
check "every route is described and nothing else" test "$table" = "$described"
[ "$table" = "$described" ] || diff <(echo "$table") <(echo "$described") | sed 's/^/# /'

check "every \$ref points at something the document has" python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
def refs(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "$ref": yield v
            else: yield from refs(v)
    elif isinstance(o, list):
        for v in o: yield from refs(v)
bad = []
for r in refs(d):
    node = d
    for part in r.lstrip("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None: bad.append(r)
if bad: print("\n".join("# unresolved " + b for b in bad))
sys.exit(1 if bad else 0)' "$doc"
check "every POST takes an Idempotency-Key" python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
sys.exit(any("post" in ops and {"$ref": "#/components/parameters/IdempotencyKey"} not in ops["post"].get("parameters", [])
             for ops in d["paths"].values()))' "$doc"
# The event types the outbox may write (its CHECK in db/schema.sql), each described under webhooks:.
types=$(python3 -c '
import re, sys
m = re.search(r"CHECK \(type IN \(([^)]*)\)\)", open(sys.argv[1]).read().split("CREATE TABLE webhook_events")[1])
print("\n".join(sorted(re.findall(r"\x27([a-z_.]+)\x27", m.group(1)))))' "$root/db/schema.sql")
events=$(python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
print("\n".join(sorted(d.get("webhooks", {}))))' "$doc")
check "the schema names eight event types" test "$(wc -l <<<"$types")" -eq 8
check "every webhook event is described under webhooks: and nothing else" test "$types" = "$events"
[ "$types" = "$events" ] || diff <(echo "$types") <(echo "$events") | sed 's/^/# /'
check "each event's payload is the envelope with its type" python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
ok = all(op["post"]["requestBody"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["type"]["const"] == name
         for name, op in d["webhooks"].items())
sys.exit(0 if ok else 1)' "$doc"
tap_exit
