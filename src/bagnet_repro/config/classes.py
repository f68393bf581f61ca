"""The 15 scene classes of the report and how the original ``scene_categories`` folders map onto them."""

REPORT_CLASSES = (
    "Bedroom",
    "Coast",
    "Forest",
    "Highway",
    "Industrial",
    "InsideCity",
    "Kitchen",
    "LivingRoom",
    "Mountain",
    "Office",
    "OpenCountry",
    "Store",
    "Street",
    "Suburb",
    "TallBuilding",
)

SCENE_CATEGORIES_TO_REPORT = {
    "bedroom": "Bedroom",
    "CALsuburb": "Suburb",
    "industrial": "Industrial",
    "kitchen": "Kitchen",
    "livingroom": "LivingRoom",
    "MITcoast": "Coast",
    "MITforest": "Forest",
    "MIThighway": "Highway",
    "MITinsidecity": "InsideCity",
    "MITmountain": "Mountain",
    "MITopencountry": "OpenCountry",
    "MITstreet": "Street",
    "MITtallbuilding": "TallBuilding",
    "PARoffice": "Office",
    "store": "Store",
}

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff")
