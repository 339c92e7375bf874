"""The road detectors' declaration (``SPEC``) and parameters (``RoadParams``), shared by their modules."""

from __future__ import annotations

from dataclasses import dataclass

from .base import DetectorSpec

SPEC = DetectorSpec(
    name="road-classic",
    version="0.46.0",
    area="road",
    types=("crack", "pothole", "ravelling", "weeds_in_pavement"),
    min_gsd_m=0.0005,
    max_gsd_m=0.08,
)


@dataclass(frozen=True)
class RoadParams:
    """Road detector parameters (metres unless named otherwise)."""

    crack_max_width_m: float = 0.12
    crack_min_radius_px: float = 4.5  # black-hat radius floor (px; an 11 px disk): a drone photo blurs a crack over pixels
    crack_max_radius_px: float = 10.0  # black-hat radius cap: at close range a 12 cm disk takes in the stones' texture
    crack_link_gap_m: float = 0.06  # pieces closer than this are one crack (networks, interrupted lines)
    crack_min_length_m: float = 0.25
    crack_k_sigma: float = 4.0
    crack_k_sigma_weak: float = 2.5
    crack_min_contrast: float = 12.0  # grey levels of black-hat response: floor of the strong threshold (weak: 0.6 of it)
    crack_min_elongation: float = 4.0
    crack_interior_depth: float = 0.17  # a crack's inside is this share darker than the road, where too thin to see (detect.widths)
    crack_max_density: float = 0.2  # share of a window of crack_pattern_window_m: above it the lines are a paving joint pattern
    crack_pattern_window_m: float = 3.0
    verge_band_m: float = 1.0  # estimated road areas only (detect.verge): a crack piece this near the green area ...
    verge_min_share: float = 0.7  # ... with at least this share of its pixels in that band runs along the verge: its edge ...
    verge_min_road_width_m: float = 4.0  # ... where the road is at least this wide (a footpath is all near the grass)
    joint_min_length_m: float = 3.0  # a crack line straight across the pavement, at least this long, is a slab joint
    marking_contrast: float = 60.0  # grey levels above the surroundings: a painted marking
    marking_min_area_m2: float = 0.02
    marking_width_m: float = 0.1  # least top-hat radius that finds a painted marking (CROW lines are 0.10-0.15 m wide)
    light_ratio_max: float = 1.7  # light of a photo's brighter quarter / its darkest 2 %: above it the light is evened (detect.light)
    light_patch_ratio_max: float = 1.4  # ... or above this, lifted patch by patch: dappled or light shade (detect.dapple)
    light_step_max: float = 0.1  # light changing by more than this share of itself over 8 px (at full size) is a shadow's edge
    alligator_min_cell_m: float = 0.05  # side of the smallest enclosed surface piece of a crack network
    alligator_min_cell_px: float = 8.0  # ... and at least this many pixels: a smaller hole is the mask's own raggedness
    alligator_min_cells: int = 3  # a crack enclosing this many such cells is alligator (block) cracking
    alligator_link_px: float = 12.0  # pieces closer than this are one network (a thin crack breaks up below a pixel)
    alligator_area_link_m: float = 0.6  # pieces closer than this are one group (detect.alligator) ...
    alligator_area_min_pieces: int = 3  # ... an alligator area when it has this many pieces ...
    alligator_area_min_length_m: float = 1.0  # ... this much crack ...
    alligator_area_min_density: float = 1.0  # ... this many metres of crack per square metre of its convex hull ...
    alligator_area_max_coherence: float = 0.25  # ... and runs every way: its lines this little one way (0-1) ...
    alligator_area_min_gsd_m: float = 0.01  # ... from this GSD on (drone imagery, where thin cracks break up)
    pothole_min_area_m2: float = 0.03
    pothole_max_area_m2: float = 4.0
    pothole_darkness: float = 0.72  # pothole brightness / local road brightness
    pothole_max_aspect: float = 3.0  # a dark blob longer than this times its width is a crack or a shadow's band
    pothole_max_elongation: float = 3.0  # ... also along its own course, bent or curled (potholes.elongation)
    pothole_min_solidity: float = 0.6  # area / convex hull area: a hole is compact
    pothole_max_ring_dark: float = 0.05  # a hole lies in a lighter road: at most this share of the road round it is as dark
    pothole_max_ring_ratio: float = 0.75  # ... and at most this times the darkest tenth of that road (potholes._ring_ratio)
    pothole_max_warmth: float = 0.06  # ... and, if smaller than pothole_warm_max_area_m2, at most this much browner ...
    pothole_warm_max_area_m2: float = 0.1  # ... (chromaticity r - b) than that road: a fallen leaf, a clod, litter
    pothole_max_frame_share: float = 0.25  # in a photo, a dark area with more of its outline on the frame is not a hole
    spall_paleness: float = 1.06  # a broken-out patch (detect.spalls): base course this much lighter than the road ...
    spall_min_area_m2: float = 0.2  # ... of this ...
    spall_max_area_m2: float = 3.0  # ... to this size ...
    spall_max_aspect: float = 3.0  # ... no longer than this times its width ...
    spall_rim_m: float = 0.075  # ... with the road in a band this wide round it ...
    spall_min_rim_crack: float = 0.3  # ... at least this much on cracks found (its broken edge) ...
    spall_max_paleness: float = 1.3  # ... its brightest tenth at most this times the road (paint is whiter) ...
    spall_max_saturation: float = 20.0  # ... at most this HSV saturation (0-255; leaves, soil, yellow paint) ...
    spall_max_texture: float = 0.11  # ... its grey levels' spread at most this share of the road's brightness ...
    spall_max_square_coherence: float = 0.35  # ... and its outline no more square than this (0-1; tiles, slabs) ...
    spall_min_gsd_m: float = 0.01  # ... from this GSD on (drone imagery; a close-range photo is smaller than most)
    manhole_min_diameter_m: float = 0.4  # a near-perfect disc of this size ...
    manhole_max_diameter_m: float = 1.0  # ... to this is a manhole or gully cover
    manhole_min_fill: float = 0.85  # area / area of the enclosing circle: a disc ~0.9+, a pothole is irregular
    manhole_ring_max_diameter_m: float = 1.4  # a cover's frame seen as a dark ring: up to this (detect.covers)
    cover_min_diameter_m: float = 0.15  # a valve cover: the smallest round cover a hole or ravelling may lie on ...
    cover_disc_perfectness: float = 0.9  # ... whose outline is this perfect a circle in the photo (HOUGH_GRADIENT_ALT)
    cover_ring_min_grey: float = 8.0  # ... and a ring (its gap or frame) this many grey levels deep or high across it
    manhole_ring_perfectness: float = 0.7  # how perfect a circle of crack pieces must be (OpenCV HOUGH_GRADIENT_ALT) ...
    manhole_ring_coverage: float = 0.75  # ... and what share of its angles the crack pieces on it cover, to be a cover's rim
    manhole_ring_share: float = 0.5  # a crack piece with this share of its pixels near such a circle lies on it
    manhole_ring_purity: float = 0.6  # ... and this share of the pixels of all pieces touching it must lie on it
    grate_min_side_m: float = 0.2  # a gully grate's slots fill a rectangle of this ... (detect.grates)
    grate_max_side_m: float = 0.8  # ... to this on each side
    grate_link_m: float = 0.06  # crack pieces this close are one group (a grate's slots, found one by one)
    grate_min_slots: int = 4  # parallel, evenly spaced stripes across the group: a grate's slots
    grate_slot_cover: float = 0.6  # share of the rectangle's width a stripe spans
    grate_bar_max: float = 0.25  # share of it the pixels between two stripes may span: a bar, not a dip in a blob
    grate_slot_contrast: float = 15.0  # grey levels a slot dips below the bars beside it, averaged along it
    grate_slot_share: float = 0.5  # share of the group's pixels in its stripes
    grate_spacing_tolerance: float = 0.35  # spacings within this share of their median: evenly spaced
    shadow_min_length_m: float = 1.0  # a crack line straight over this ... (detect.shadows)
    shadow_max_wander_px: float = 1.0  # ... its centre line within this of a straight line (80 % of it) ...
    shadow_min_blue_shift: float = 0.015  # ... and this much bluer (b / (r+g+b)) than the road beside it: a cast shadow
    stain_min_edge_m: float = 0.10  # an edge this soft (contrast / boundary gradient) is a stain fading out, not a hole
    weeds_min_area_m2: float = 0.01
    ravelling_ratio: float = 2.5  # local stone-scale texture (std) this many times the road's typical texture
    ravelling_window_m: float = 0.3  # texture is measured over this
    ravelling_min_area_m2: float = 0.25
    area_work_gsd_m: float = 0.01  # finer photos are judged for potholes and ravelling on a grid of about this
    ravelling_smooth_ratio: float = 1.5  # texture below this times the road's typical one is sound surface
    ravelling_ring_m: float = 0.5  # the ring around a rough patch that must be mostly sound road ...
    ravelling_min_smooth_ring: float = 0.6  # ... in at least this share
    ravelling_max_grid_coherence: float = 0.25  # edges this aligned with one square grid are paving joints
    weeds_link_gap_m: float = 0.10
    weeds_exg: float = 0.04  # excess green 2g-r-b in chromaticity
    weeds_colour_scale_m: float = 0.005  # colour is judged on the photo blurred this much (sigma): noise is not green
