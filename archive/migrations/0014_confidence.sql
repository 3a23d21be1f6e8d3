-- How sure the classifier is of an article's decision (0–1, calibrated on held-out
-- episodes: of the decisions given 0.9, about 90 % are right). NULL: classified before
-- the classifier gave one. Alert rules may ask for a minimum (`min_confidence`).
ALTER TABLE articles ADD COLUMN confidence real
    CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1));
