import * as assert from "node:assert/strict";
import { checkChoice, checkInteger, checkPositive, checkRate, checkSeed, shapeList } from "../../src/nn/args";

describe("nn/args", () => {
  it("passes good values through", () => {
    assert.equal(checkInteger("L", "n", 3), 3);
    assert.equal(checkInteger("L", "n", 0, 0), 0);
    assert.equal(checkRate("L", "rate", 0), 0);
    assert.equal(checkPositive("L", "eps", 1e-12), 1e-12);
    assert.equal(checkChoice("L", "norm", "pre", ["post", "pre"]), "pre");
    assert.equal(checkSeed("L", -3.5), -3.5);
  });

  it("names the layer and the field of a bad value", () => {
    assert.throws(() => checkInteger("Attention", "numHeads", 2.5), /^Error: Attention: numHeads must be an integer >= 1, got 2\.5$/);
    assert.throws(() => checkInteger("L", "n", "3"), /n must be an integer >= 1, got "3"/);
    assert.throws(() => checkRate("L", "dropout", 1), /dropout must be a number in \[0, 1\), got 1/);
    assert.throws(() => checkRate("L", "dropout", -0.1), /dropout must be a number in \[0, 1\)/);
    assert.throws(() => checkPositive("L", "eps", Infinity), /eps must be a finite number > 0/);
    assert.throws(() => checkChoice("L", "norm", "mid", ["post", "pre"]), /norm must be one of "post", "pre", got "mid"/);
    assert.throws(() => checkSeed("L", undefined), /L: seed must be a finite number/);
  });

  it("lists input shapes whether tfjs passes one or several", () => {
    assert.deepEqual(shapeList([null, 3, 4]), [[null, 3, 4]]);
    assert.deepEqual(shapeList([[null, 3, 4], [null, 3]]), [[null, 3, 4], [null, 3]]);
  });
});
