// Feature matrices: rows of named features (genres, authors, decades, demographics, identities) for the
// feature-embedding and two-tower models, and the record a saved model keeps of them.

import * as assert from "node:assert/strict";
import { Interactions } from "../../src/data/interactions";
import {
  checkSavedFeatures,
  featureMatrixFromLists,
  featureMatrixRecord,
  itemFeatureMatrix,
  userFeatureMatrix,
} from "../../src/data/featureMatrix";
import { pairs } from "../models/implicitFixtures";

describe("data/featureMatrix", () => {
  it("featureMatrixFromLists numbers features by first appearance and normalises rows to sum to 1", () => {
    const m = featureMatrixFromLists([["a", "b"], [], ["b", "c", "b"]]);
    assert.deepEqual(m.names, ["a", "b", "c"]);
    assert.deepEqual(Array.from(m.weights.toDense()), [0.5, 0.5, 0, 0, 0, 0, 0, 0.5, 0.5]);
    const raw = featureMatrixFromLists([["a", "b"], ["b"]], { normalize: false });
    assert.deepEqual(Array.from(raw.weights.toDense()), [1, 1, 0, 1]);
  });

  it("itemFeatureMatrix gives warm items their identity and cold items their content features only", () => {
    const data = pairs(
      [
        [0, 0],
        [0, 1],
        [1, 1],
      ],
      2,
      4,
      {
        genres: [["Drama"], ["Comedy", "Drama"], ["Comedy"], ["Western"]],
        years: Float64Array.of(1995, 1989, NaN, 1950),
        authors: ["Ann, Bob", "Bob", "Ann", "Cy"],
      },
    );
    const m = itemFeatureMatrix(data, { normalize: false });
    const row = (i: number) => Array.from(m.weights.row(i).indices, (f) => m.names[f]).sort();
    assert.deepEqual(row(0), ["author:Ann", "author:Bob", "decade:1990s", "genre:Drama", "item:i0"]);
    assert.deepEqual(row(1), ["author:Bob", "decade:1980s", "genre:Comedy", "genre:Drama", "item:i1"]);
    // Item 2 is cold: no identity; its features are ones warm items have.
    assert.deepEqual(row(2), ["author:Ann", "genre:Comedy"]);
    // Item 3 is cold and none of its features is on a warm item: they could never be trained.
    assert.deepEqual(row(3), []);
    assert.ok(!m.names.includes("genre:Western") && !m.names.includes("item:i2"));
    const genresOnly = itemFeatureMatrix(data, { fields: ["genres"], identity: false });
    assert.deepEqual(Array.from(genresOnly.weights.toDense()), [1, 0, 0.5, 0.5, 0, 1, 0, 0]);
    assert.deepEqual(genresOnly.names, ["genre:Drama", "genre:Comedy"]);
  });

  it("userFeatureMatrix is identity only by default and adds demographic features on request", () => {
    const data = new Interactions({
      ...pairs(
        [
          [0, 0],
          [1, 0],
        ],
        3,
        1,
      ),
      userInfo: { genders: ["F", "M", "F"], ages: Float64Array.of(23, 47, 29), occupations: ["a", "b", "c"] },
    });
    const identity = userFeatureMatrix(data);
    assert.deepEqual(identity.names, ["user:u0", "user:u1"]);
    assert.equal(identity.weights.row(2).indices.length, 0); // user 2 has no training interactions
    const demographic = userFeatureMatrix(data, { fields: ["genders", "ageGroups"], normalize: false });
    const row = (u: number) => Array.from(demographic.weights.row(u).indices, (f) => demographic.names[f]).sort();
    assert.deepEqual(row(2), ["age:20s", "gender:F"]); // a new user, described by what others share
    assert.deepEqual(row(1), ["age:40s", "gender:M", "user:u1"]);
  });

  it("rejects fields the data does not have", () => {
    const data = pairs([[0, 0]], 1, 1, { genres: [["x"]] });
    assert.throws(() => itemFeatureMatrix(data, { fields: ["tags"] }), /'tiny' has no item tags/);
    assert.throws(() => itemFeatureMatrix(data, { fields: ["colour" as "tags"] }), /unknown field 'colour'/);
    assert.throws(() => userFeatureMatrix(data, { fields: ["genders"] }), /has no user genders/);
  });

  it("a saved model's record of a feature matrix: names, size and a hash that any change of an entry moves", () => {
    const m = featureMatrixFromLists([["a", "b"], ["b"]]);
    const record = featureMatrixRecord(m);
    assert.deepEqual([record.names, record.rows, record.nnz], [["a", "b"], 2, 3]);
    assert.match(record.hash, /^[0-9a-f]{8}$/);
    assert.deepEqual(featureMatrixRecord(featureMatrixFromLists([["a", "b"], ["b"]])), record, "deterministic");
    // Same names and pattern, other weights: another hash.
    const raw = featureMatrixFromLists([["a", "b"], ["b"]], { normalize: false });
    assert.notEqual(featureMatrixRecord(raw).hash, record.hash);
    // An entry moved to the next row (the row separator counts): another hash.
    assert.notEqual(featureMatrixRecord(featureMatrixFromLists([["a"], ["b", "b"]])).hash, record.hash);
  });

  it("checkSavedFeatures accepts the matrix a model was saved with and names the field of any other", () => {
    const m = featureMatrixFromLists([["a", "b"], ["b"]]);
    const saved = JSON.parse(JSON.stringify(featureMatrixRecord(m)));
    checkSavedFeatures("Model", "itemFeatures", saved, m);
    checkSavedFeatures("Model", "userFeatures", null, null);
    assert.throws(
      () => checkSavedFeatures("Model", "itemFeatures", saved, featureMatrixFromLists([["a"], ["b"]])),
      /Model: itemFeatures \(2 rows × 2 features, 2 entries, hash [0-9a-f]{8}\) differs from the saved model's \(2 rows × 2 features, 3 entries, hash [0-9a-f]{8}\); pass the feature matrix it was trained with/,
    );
    assert.throws(() => checkSavedFeatures("Model", "userFeatures", saved, null), /userFeatures \(null\) differs/);
  });
});
