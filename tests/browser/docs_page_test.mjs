// GET /docs in a real browser: Debian's chromium, headless, driven by puppeteer-core (which
// downloads no browser). Against the built crud-api it:
//  - opens the URL the "listening" line names and waits for the operations to render, failing on
//    a blank page, a script error, or any request of the page that fails or gets >= 400;
//  - uses "Try it out" on POST /items with a body, executes it and reads the 201 and the new id
//    from the page, then does the same with GET /items/{id} for that id and reads 200;
//  - saves a screenshot (CRUD_SCREENSHOT_DIR, default the working directory; with
//    CRUD_UPDATE_SCREENSHOT=1 also docs/images/docs-page.png, the README's);
//  - checks that with bearer tokens on the page offers Authorize, and without them it does not.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import puppeteer from "puppeteer-core";
import { startServe } from "./serve_process.mjs";

const CHROMIUM = process.env.CRUD_CHROMIUM || "/usr/bin/chromium";
const SHOT_DIR = process.env.CRUD_SCREENSHOT_DIR || process.cwd();
const STEP_MS = 30_000;  // generous: CI shares its two cores with the other tests

let browser;
before(async () => {
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No sandbox: CI runs as root, where chromium refuses to start with it.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--no-default-browser-check", "--disable-extensions"],
  });
});
after(async () => { await browser?.close(); });

// A page that records everything that went wrong while it loaded and ran.
async function watchedPage() {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (r.status() >= 400 && !path.startsWith("/items")) problems.push(`${r.status()} for ${r.url()}`);
  });
  return { page, problems };
}

// Opens the page and waits for Swagger UI to render the operations; a page that never does
// fails with what went wrong on the way.
async function openDocs(page, problems, url) {
  try {
    await page.goto(url, { waitUntil: "load", timeout: STEP_MS });
    await page.waitForSelector("#swagger-ui .info .title", { timeout: STEP_MS });
    await page.waitForSelector("#operations-items-createItem", { timeout: STEP_MS });
  } catch (e) {
    const body = await page.$eval("body", (b) => b.innerText.slice(0, 500)).catch(() => "");
    throw new Error(`${url} did not render: ${e.message}; problems: ${JSON.stringify(problems)}; ` +
                    `page text: ${JSON.stringify(body)}`);
  }
}

// Expands an operation, presses "Try it out", lets `fill` fill it in, executes it and returns the
// live response's status and body as the page shows them.
async function tryItOut(page, operationId, fill) {
  const block = `#operations-items-${operationId}`;
  await page.click(`${block} .opblock-summary`);
  await page.waitForSelector(`${block} .try-out__btn`, { timeout: STEP_MS });
  await page.click(`${block} .try-out__btn`);
  await fill(block);
  await page.click(`${block} .execute`);
  const status = `${block} .live-responses-table .response .response-col_status`;
  await page.waitForSelector(status, { timeout: STEP_MS });
  const code = (await page.$eval(status, (e) => e.textContent)).trim();
  const body = await page.$eval(`${block} .live-responses-table .response-col_description pre`,
                                (e) => e.textContent);
  return { status: Number.parseInt(code, 10), body };
}

// Sets a field's value the way typing would reach React (the native setter, then an input
// event), without one round trip and re-render per keystroke.
async function replaceText(page, selector, text) {
  await page.waitForSelector(selector, { timeout: STEP_MS });
  await page.$eval(selector, (el, value) => {
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value").set;
    setter.call(el, value);
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, text);
}

// Types into a field, replacing what it held (parameter inputs are debounced: they only see
// real keystrokes).
async function typeText(page, selector, text) {
  await page.waitForSelector(selector, { timeout: STEP_MS });
  await page.click(selector, { clickCount: 3 });
  await page.keyboard.press("Backspace");
  await page.type(selector, text);
}

test("Swagger UI renders offline, creates an item and reads it back", async () => {
  const serve = await startServe();
  try {
    const docsUrl = serve.listening.docs;
    assert.equal(docsUrl, `${serve.base}/docs`, "the listening line names the /docs URL");
    const { page, problems } = await watchedPage();
    const external = [];
    page.on("request", (r) => { if (!r.url().startsWith(serve.base) && !r.url().startsWith("data:")) external.push(r.url()); });
    await openDocs(page, problems, docsUrl);

    const title = await page.$eval("#swagger-ui .info .title", (e) => e.textContent);
    assert.match(title, /Serverless CRUD API/);
    const operations = await page.$$eval(".opblock", (els) => els.length);
    assert.ok(operations >= 8, `only ${operations} operations rendered`);
    assert.equal(await page.$(".auth-wrapper .authorize"), null, "no Authorize without auth");

    const name = `Browser test ${Date.now()}`;
    const created = await tryItOut(page, "createItem", (block) =>
      replaceText(page, `${block} textarea.body-param__text`,
                  JSON.stringify({ name, description: "created through /docs" }, null, 2)));
    assert.equal(created.status, 201, created.body);
    const item = JSON.parse(created.body).data;
    assert.match(item.id, /^item_[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(item.name, name);
    // The README's picture: the page with the request just made and its 201.
    await page.setViewport({ width: 1280, height: 1700 });
    await page.$eval("#operations-items-createItem", (e) => e.scrollIntoView({ block: "start" }));
    mkdirSync(SHOT_DIR, { recursive: true });
    const shot = join(SHOT_DIR, "docs-page.png");
    await page.screenshot({ path: shot });

    const read = await tryItOut(page, "getItem", (block) =>
      typeText(page, `${block} tr[data-param-name="id"] input`, item.id));
    assert.equal(read.status, 200, read.body);
    assert.equal(JSON.parse(read.body).data.id, item.id);

    // The same item over plain HTTP: the page really wrote it.
    const direct = await fetch(`${serve.base}/items/${item.id}`);
    assert.equal(direct.status, 200);

    if (process.env.CRUD_UPDATE_SCREENSHOT === "1" && process.env.CRUD_SOURCE_DIR) {
      const images = join(process.env.CRUD_SOURCE_DIR, "docs", "images");
      mkdirSync(images, { recursive: true });
      copyFileSync(shot, join(images, "docs-page.png"));
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(external, [], "the page reached beyond the server");
    await page.close();
  } finally {
    await serve.stop();
  }
});

test("with bearer tokens on, the page offers Authorize", async () => {
  const serve = await startServe(["--jwt-secret", "browser-test-secret-of-32-bytes!!",
                                  "--jwt-issuer", "browser-test"]);
  try {
    const { page, problems } = await watchedPage();
    await openDocs(page, problems, serve.listening.docs);
    await page.waitForSelector(".auth-wrapper .authorize", { timeout: STEP_MS });
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await serve.stop();
  }
});
