import * as assert from "node:assert/strict";
import {
  checkChoice,
  checkFinite,
  checkInteger,
  checkNonNegative,
  checkPairs,
  checkPositive,
  checkPositiveInteger,
  checkRate,
  checkSeed,
} from "../src/checks";

describe("checks", () => {
  it("passes good values through", () => {
    assert.equal(checkPositiveInteger("f", "k", 3), 3);
    assert.equal(checkInteger("L", "n", 3), 3);
    assert.equal(checkInteger("L", "n", 0, 0), 0);
    assert.equal(checkFinite("f", "mean", -2.5), -2.5);
    assert.equal(checkNonNegative("f", "reg", 0), 0);
    assert.equal(checkRate("L", "rate", 0), 0);
    assert.equal(checkPositive("L", "eps", 1e-12), 1e-12);
    assert.equal(checkChoice("L", "norm", "pre", ["post", "pre"]), "pre");
    assert.equal(checkSeed("L", -3.5), -3.5);
    checkPairs("f", [1, 2], [3, 4]);
  });

  it("names the caller, the field and the value of a bad one", () => {
    assert.throws(
      () => checkPositiveInteger("recommendTopK", "k", 0),
      /^Error: recommendTopK: k must be a positive integer, got 0$/,
    );
    assert.throws(() => checkPositiveInteger("f", "k", 1.5), /k must be a positive integer, got 1\.5/);
    assert.throws(() => checkPositiveInteger("f", "k", NaN), /got NaN/);
    assert.throws(
      () => checkInteger("Attention", "numHeads", 2.5),
      /^Error: Attention: numHeads must be an integer >= 1, got 2\.5$/,
    );
    assert.throws(() => checkInteger("L", "n", "3"), /n must be an integer >= 1, got "3"/);
    assert.throws(() => checkInteger("KNNBasic", "k", -1, 0), /KNNBasic: k must be an integer >= 0, got -1/);
    assert.throws(() => checkFinite("f", "initMean", Infinity), /f: initMean must be a finite number, got Infinity/);
    assert.throws(() => checkNonNegative("f", "reg", -0.1), /f: reg must be a finite number >= 0, got -0\.1/);
    assert.throws(() => checkNonNegative("f", "reg", undefined), /got undefined/);
    assert.throws(() => checkRate("L", "dropout", 1), /dropout must be a number in \[0, 1\), got 1/);
    assert.throws(() => checkRate("L", "dropout", -0.1), /dropout must be a number in \[0, 1\)/);
    assert.throws(() => checkPositive("L", "eps", Infinity), /eps must be a finite number > 0/);
    assert.throws(
      () => checkChoice("L", "norm", "mid", ["post", "pre"]),
      /norm must be one of "post", "pre", got "mid"/,
    );
    assert.throws(() => checkSeed("L", undefined), /L: seed must be a finite number/);
    assert.throws(
      () => checkPairs("f.predict", [1, 2], [3]),
      /f\.predict: users and items must have the same length, got 2 and 1/,
    );
  });
});
