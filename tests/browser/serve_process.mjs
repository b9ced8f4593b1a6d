// Starts the built `crud-api serve` on 127.0.0.1 with port 0, over a scratch SQLite file, and
// resolves with its "listening" log line once it accepts connections.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export async function startServe(extraArgs = []) {
  const bin = process.env.CRUD_API_BIN;
  if (!bin) throw new Error("CRUD_API_BIN is not set (ctest sets it to the built crud-api)");
  const dir = mkdtempSync(join(tmpdir(), "crud-browser-"));
  const child = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", "0",
                            "--db", join(dir, "items.db"), ...extraArgs],
                      { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const lines = createInterface({ input: child.stdout });
  const listening = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("crud-api serve did not listen within 10 s")), 10_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`crud-api serve exited (${code}) before listening: ${stderr}`));
    });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.message === "listening") {
          clearTimeout(timer);
          resolve(entry);
        }
      } catch { /* not a JSON line */ }
    });
  });
  lines.on("line", () => {});  // keep draining the request log
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { listening, base: `http://127.0.0.1:${listening.port}`, stop };
}
