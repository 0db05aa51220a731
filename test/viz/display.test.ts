import * as assert from "node:assert/strict";
import { displayMimeBundle, escapeHtml, isNotebook, stableHash } from "../../src/viz/display";
import { withFakeKernel } from "../support/fakeKernel";

describe("viz/display", () => {
  it("knows it is not in a notebook in plain Node, and refuses to display there", () => {
    assert.equal(isNotebook(), false);
    assert.throws(() => displayMimeBundle({ "text/plain": "x" }), /no tslab kernel/);
  });

  it("sends every MIME type of a bundle in one display message", () => {
    const bundle = { "text/plain": "p", "text/html": "<b>h</b>", "application/vnd.plotly.v1+json": { data: [] } };
    const messages = withFakeKernel(() => {
      assert.equal(isNotebook(), true);
      displayMimeBundle(bundle);
    });
    assert.equal(messages.length, 1);
    assert.deepEqual(messages[0].content.data, bundle);
    assert.deepEqual(messages[0].content.transient, {});
    assert.equal(messages[0].update, false);
  });

  it("names a display and updates it in place", () => {
    const messages = withFakeKernel(() => {
      displayMimeBundle({ "text/plain": "1" }, { displayId: "d1" });
      displayMimeBundle({ "text/plain": "2" }, { displayId: "d1", update: true });
    });
    assert.deepEqual(
      messages.map((m) => [m.content.transient.display_id, m.update]),
      [
        ["d1", false],
        ["d1", true],
      ],
    );
    withFakeKernel(() => assert.throws(() => displayMimeBundle({}, { update: true }), /displayId/));
  });

  it("escapes HTML and hashes deterministically", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    // FNV-1a 32-bit of "" is the offset basis, of "a" is 0xe40c292c (published test vectors).
    assert.equal(stableHash(""), "811c9dc5");
    assert.equal(stableHash("a"), "e40c292c");
  });
});
