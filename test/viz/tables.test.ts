// Tables shown as pandas shows a DataFrame: HTML with rounded numbers and full text, and a text fallback.

import * as assert from "node:assert/strict";
import { withFakeKernel } from "../support/fakeKernel";
import { dataFrameRows, showTable, tableHtml, tableMimeBundle, tableText } from "../../src/viz/tables";

describe("viz/tables", () => {
  const rows = [
    { model: "L.A. Confidential (1997)", "NDCG@10": 0.106044538706, users: 943 },
    { model: "popularity", "NDCG@10": 0.0449, users: 12345 },
  ];

  it("rounds a fractional column to the same decimals and keeps integers whole", () => {
    const text = tableText(rows, { digits: 3 });
    assert.equal(
      text,
      [
        "model                     NDCG@10  users",
        "L.A. Confidential (1997)    0.106    943",
        "popularity                  0.045  12345",
      ].join("\n"),
    );
  });

  it("gives a column the decimals its most precise value needs, up to digits", () => {
    const text = tableText([{ s: 0.7 }, { s: 9.2 }, { s: 13.95 }, { s: 2 }]);
    assert.equal(text, ["    s", " 0.70", " 9.20", "13.95", " 2.00"].join("\n"));
    assert.equal(tableText([{ x: 1 / 3 }], { digits: 2 }), "   x\n0.33");
  });

  it("shows full titles in HTML, escaped, with numbers right-aligned", () => {
    const html = tableHtml([{ title: "Q&A <b>", score: 0.5 }]);
    assert.match(html, /<table class="dataframe">/);
    assert.match(html, /<td style="text-align: left">Q&amp;A &lt;b&gt;<\/td>/);
    assert.match(html, /<td style="text-align: right">0\.5<\/td>/);
    assert.match(html, /<th style="text-align: right">score<\/th>/);
  });

  it("names rows from a record, writes tiny values in exponent form and infinities as symbols", () => {
    const text = tableText(
      { SVD: { diff: 3e-9, rmse: 0.93 }, DP: { diff: 0, rmse: Infinity } },
      { indexName: "model" },
    );
    assert.equal(text, ["model    diff  rmse", "SVD    3.0e-9  0.93", "DP     0.0000     ∞"].join("\n"));
  });

  it("shows a flat record as name and value, as console.table does", () => {
    assert.equal(
      tableText({ KNNBasic: "3.50  4.00", SVD: 0.25 }),
      ["          value", "KNNBasic  3.50  4.00", "SVD       0.25"].join("\n"),
    );
  });

  it("caps the rows shown and says how many were left out", () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ i: i }));
    assert.match(tableText(many, { maxRows: 5 }), /… 2 more rows$/);
    assert.match(tableHtml(many, { maxRows: 5 }), /<p>… 2 more rows<\/p>$/);
    assert.equal((tableHtml(many, { maxRows: 5 }).match(/<tr>/g) ?? []).length, 6); // header + 5
  });

  it("carries HTML and text in one display message, with the caption in both", () => {
    const bundle = tableMimeBundle(rows, { caption: "Table 1" });
    assert.deepEqual(Object.keys(bundle).sort(), ["text/html", "text/plain"]);
    assert.match(bundle["text/html"] as string, /<caption>Table 1<\/caption>/);
    assert.match(bundle["text/plain"] as string, /^Table 1\n/);
  });

  it("reads a danfojs-shaped frame, its index first", () => {
    const frame = {
      columns: ["a", "b"],
      values: [
        [1, "x"],
        [2.5, "y"],
      ],
      index: ["r0", "r1"],
    };
    assert.deepEqual(dataFrameRows(frame), [
      { "": "r0", a: 1, b: "x" },
      { "": "r1", a: 2.5, b: "y" },
    ]);
  });

  it("sends one HTML-and-text message inside a notebook", () => {
    const messages = withFakeKernel(() => showTable([{ a: 1 }]));
    assert.equal(messages.length, 1);
    assert.deepEqual(messages[0].content.data, tableMimeBundle([{ a: 1 }]));
  });

  it("reads a Series-shaped frame, one cell a row", () => {
    assert.deepEqual(dataFrameRows({ columns: ["count"], values: [3, 4], index: [1, 2] }), [
      { "": 1, count: 3 },
      { "": 2, count: 4 },
    ]);
  });

  it("prints the text outside a notebook", () => {
    const logged: string[] = [];
    const original = console.log;
    console.log = (text: string) => logged.push(text);
    try {
      showTable([{ a: 1 }]);
    } finally {
      console.log = original;
    }
    assert.deepEqual(logged, ["a\n1"]);
  });

  it("refuses bad options by name", () => {
    assert.throws(() => tableText(rows, { digits: -1 }), /digits must be an integer in \[0, 15\], got -1/);
    assert.throws(() => tableText(rows, { maxRows: 0 }), /maxRows must be a positive integer, got 0/);
  });
});
