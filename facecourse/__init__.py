"""Helpers for the face recognition and privacy course: one module per idea, in layers.

Read a row as "these modules may import modules of these layers" (``tests/test_layers.py``
enforces it, and fails when a new module has no row)::

    layer        | modules                                              | may import
    -------------+------------------------------------------------------+------------------------------
    base         | errors, _checks, _text, _files                       | base
    sources      | config, progress, manifest, dataset, images,         | base, sources
                 |   privacy, classcache                                |
    measurement  | metrics, search, deployment, extrapolation,          | base, measurement
                 |   demographics, embeddings, synthetic                |
    faces        | degrade, detection, landmarks, faceprints,           | base, sources, measurement, faces
                 |   my_images, classcache_build                        |
    display      | plots, errorplots, widgets, tables, simulator,       | base, measurement, display
                 |   damage_explorer, gallery_explorer, group_explorer  |
    rights       | audit, rights                                        | base, sources, measurement, faces,
                 |                                                      |   rights
    story        | timeline                                             | base
    entry points | __init__, __main__, pytest_plugin, grading           | anything

* **sources** read the photos and their provenance: the manifest (who consented, to what), the
  verified download, the one safe image loader, consent withdrawal, reading the class cache.
* **faces** run dlib: damaged copies of a photo, face detection and its failure rates, landmarks
  against hand-placed ones, faceprints (cached), a student's own photo, building the class cache.
* **measurement** is arithmetic on numbers, with no photo and no dlib: error rates with their
  intervals, 1:N search, the deployment model, extrapolation to billions, group comparisons.
* **display** turns measurements into tables, figures and widgets; it is pure too.
* **rights** is the course's model of a face-search company's duties: an audit log, access,
  opt-out, erasure. **story** is the dated, sourced Clearview timeline.
* ``_checks`` (one rule per kind of input), ``_text`` (one way to print a rate, an interval, a
  count, a table) and ``_files`` (the one atomic file writer) are private: notebooks use the
  public modules.

A notebook imports the modules it needs by name, e.g. ``from facecourse import metrics, search``.
"""
