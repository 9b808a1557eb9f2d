// An MCP client the Python tests did not write: the official TypeScript SDK's `Client`, from
// tests/node/node_modules (where the filesystem server's install puts it). It connects to
// spinegate mcp-proxy on stdio (PROXY_COMMAND, a JSON array) or Streamable HTTP (MCP_URL),
// declares elicitation, answers each elicitation with approve = true only when its message
// names APPROVE_TOOL, lists the tools, makes the calls in CALLS ([[name, arguments], ...]) and
// prints what it got as one JSON object.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const sdk = join(process.env.NODE_MODULES, "@modelcontextprotocol/sdk/dist/esm");
const load = (path) => import(pathToFileURL(join(sdk, path)).href);
const { Client } = await load("client/index.js");
const { StdioClientTransport } = await load("client/stdio.js");
const { StreamableHTTPClientTransport } = await load("client/streamableHttp.js");
const { ElicitRequestSchema } = await load("types.js");

let transport;
if (process.env.MCP_URL) {
  transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL));
} else {
  const [command, ...args] = JSON.parse(process.env.PROXY_COMMAND);
  transport = new StdioClientTransport({ command, args, stderr: "ignore", env: process.env });
}
const client = new Client({ name: "ts-sdk-client", version: "1.0.0" }, { capabilities: { elicitation: {} } });
const asked = [];
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  asked.push(request.params.message);
  const approve = request.params.message.includes(process.env.APPROVE_TOOL ?? "\u0000");
  return { action: "accept", content: { approve } };
});
await client.connect(transport);
const out = { server: client.getServerVersion(), asked };
out.tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
out.results = [];
for (const [name, args] of JSON.parse(process.env.CALLS ?? "[]")) {
  try {
    const result = await client.callTool({ name, arguments: args });
    out.results.push({
      name,
      isError: result.isError === true,
      text: result.content.map((block) => block.text ?? `[${block.type}]`).join("\n"),
      meta: result._meta ?? null,
    });
  } catch (error) {
    out.results.push({ name, thrown: String(error) });
  }
}
await client.close();
process.stdout.write(JSON.stringify(out) + "\n");
